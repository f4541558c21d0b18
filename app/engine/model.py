"""The compiled rule set: what the request path evaluates, with nothing left to parse."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from app.engine.expressions import Condition
from app.engine.schema import MetricType, Style
from app.engine.templating import Template
from app.engine.windows import WindowName


@dataclass(frozen=True, slots=True)
class Location:
    """Where a key or value was written in a rule file (line and column 1-based).

    Compiled objects carry it for warnings and tools; it is not part of what they
    mean, so two objects that differ only in place compare equal.
    """

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    type: MetricType
    window: WindowName | None
    description: str | None
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Plan:
    name: str
    limits: Mapping[str, float]  # a metric absent from the map is unlimited
    upgrade_to: str | None
    description: str | None
    location: Location | None = field(default=None, compare=False)
    # "upgrade_to", "limits.<metric>" -> where that key was written
    key_locations: Mapping[str, Location] = field(default_factory=dict, compare=False)

    def limit(self, metric: str) -> float | None:
        return self.limits.get(metric)


@dataclass(frozen=True, slots=True)
class Threshold:
    value: float
    percent: bool

    def level(self, limit: float | None) -> float | None:
        """The usage level at which this threshold fires, or None if it cannot fire."""
        if not self.percent:
            return self.value
        if limit is None or limit <= 0:
            return None
        return self.value * limit / 100

    def is_met(self, usage: float, limit: float | None) -> bool:
        if not self.percent:
            return usage >= self.value
        if limit is None or limit <= 0:
            return False
        # usage >= value% of limit, in a form that keeps whole numbers exact.
        return usage * 100 >= self.value * limit

    def __str__(self) -> str:
        number = f"{self.value:g}"
        return f"{number}%" if self.percent else number


@dataclass(frozen=True, slots=True)
class PromptTemplate:
    style: Style
    title: Template
    body: Template | None
    cta_label: Template | None
    cta_url: Template | None


@dataclass(frozen=True, slots=True)
class Trigger:
    id: str
    # A trigger watches a metric's threshold, holds a condition (`when:`), or both; metric
    # and threshold are None together.
    metric: str | None
    threshold: Threshold | None
    priority: int
    cooldown: timedelta
    placements: frozenset[str] | None  # None: every placement
    plans: frozenset[str] | None  # None: every plan that has an upgrade_to
    prompt: PromptTemplate
    description: str | None
    condition: Condition | None = None
    location: Location | None = field(default=None, compare=False)
    # "threshold", "when", "prompt.title", "prompt.body", "prompt.cta.label", ... -> where written
    key_locations: Mapping[str, Location] = field(default_factory=dict, compare=False)

    def where(self, key: str) -> Location | None:
        """Where `key` was written, else where the trigger was."""
        return self.key_locations.get(key, self.location)

    def shows_in(self, placement: str | None) -> bool:
        return placement is None or self.placements is None or placement in self.placements


@dataclass(frozen=True)
class RuleSet:
    version: str
    metrics: Mapping[str, Metric]
    plans: Mapping[str, Plan]
    default_plan: str
    triggers: tuple[Trigger, ...]
    # The triggers that may fire for each plan, in evaluation order: the plan
    # filter is applied once here instead of on every request.
    triggers_by_plan: Mapping[str, tuple[Trigger, ...]]
    files: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the evaluator needs to know of one account and user, read in one go."""

    plan: str | None  # None: never PUT, so the rule set's default plan
    usage: Mapping[str, float]  # metric -> current value (counters: current window)
    dismissed_at: Mapping[str, datetime]  # trigger id -> when this user dismissed it
    attributes: Mapping[str, Any] = field(default_factory=dict)  # the account's, JSON values
