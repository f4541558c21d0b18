"""The compiled rule set: what the request path evaluates, with nothing left to parse."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from app.engine.durations import format_duration
from app.engine.expressions import Condition
from app.engine.model.templating import Template
from app.engine.vocabulary import (
    ANY_STYLE,
    CapKey,
    CapScope,
    CounterWindow,
    MetricType,
    PromptStyle,
    SignalType,
)


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
    window: CounterWindow | None
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
    style: PromptStyle
    title: Template
    body: Template | None
    cta_label: Template | None
    cta_url: Template | None


@dataclass(frozen=True, slots=True)
class Frequency:
    """At most `count` in any span of `per`."""

    count: int
    per: timedelta


@dataclass(frozen=True, slots=True)
class Cap:
    """A rule-set-wide frequency cap on the prompts of one style (`any`: of every style)."""

    key: CapKey
    limit: Frequency
    scope: CapScope

    def counts(self, style: str) -> bool:
        return self.key == ANY_STYLE or self.key == style

    def __str__(self) -> str:
        """As written, with its scope: "modal: 1 per 1d per user"."""
        count, per = self.limit.count, format_duration(self.limit.per)
        return f"{self.key}: {count} per {per} per {self.scope}"


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
    prompt: PromptTemplate | None  # None: a trigger that only records a signal
    description: str | None
    condition: Condition | None = None
    hold_for: timedelta | None = None  # `for:`: how long it must hold before it fires
    max_impressions: Frequency | None = None  # per user
    shadow: bool = False  # `mode: shadow`: evaluated and counted, never shown nor signalled
    signal: SignalType | None = None
    # The windows of the counters it reads (as `metric:` or in `when:`): a hold that began
    # in one window ends with it, since the count starts again at zero.
    counter_windows: frozenset[CounterWindow] = frozenset()
    # With `for:`, a fingerprint of what the hold is about (metric, threshold, condition,
    # plans, duration): a pending mark made under other rules for this id is not kept.
    hold_fingerprint: str = ""
    location: Location | None = field(default=None, compare=False)
    # "threshold", "when", "prompt.title", "prompt.body", "prompt.cta.label", ... -> where written
    key_locations: Mapping[str, Location] = field(default_factory=dict, compare=False)

    def where(self, key: str) -> Location | None:
        """Where `key` was written, else where the trigger was."""
        return self.key_locations.get(key, self.location)

    def applies_to(self, plan: Plan) -> bool:
        """The plan filter: the trigger's `plans`, or else every plan with an upgrade_to."""
        if self.plans is not None:
            return plan.name in self.plans
        return plan.upgrade_to is not None

    def shows_in(self, placement: str | None) -> bool:
        return placement is None or self.placements is None or placement in self.placements


@dataclass(frozen=True)
class RuleSet:
    version: str
    metrics: Mapping[str, Metric]
    plans: Mapping[str, Plan]
    default_plan: str
    triggers: tuple[Trigger, ...]  # in display order: priority (higher first), then id
    files: tuple[str, ...]
    caps: tuple[Cap, ...] = ()
    # How long back impressions matter (the longest max_impressions or cap span); None
    # when nothing counts them, so the prompt path does not read them.
    impressions_horizon: timedelta | None = None
    # Derived from the above once: triggers by id; those with `for:` (whose pending marks
    # the store keeps); those with a prompt; which impression lists the prompt path must
    # read; and how many impressions of each style and trigger a list must keep (the
    # largest count).
    by_id: Mapping[str, Trigger] = field(init=False, repr=False, compare=False)
    held_triggers: tuple[Trigger, ...] = field(init=False, repr=False, compare=False)
    prompt_triggers: tuple[Trigger, ...] = field(init=False, repr=False, compare=False)
    reads_user_impressions: bool = field(init=False, repr=False, compare=False)
    reads_account_impressions: bool = field(init=False, repr=False, compare=False)
    impressions_kept: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        derived = {
            "by_id": {t.id: t for t in self.triggers},
            "held_triggers": tuple(t for t in self.triggers if t.hold_for is not None),
            "prompt_triggers": tuple(t for t in self.triggers if t.prompt is not None),
            "reads_user_impressions": any(c.scope == "user" for c in self.caps)
            or any(t.max_impressions for t in self.triggers),
            "reads_account_impressions": any(c.scope == "account" for c in self.caps),
            "impressions_kept": max(
                [c.limit.count for c in self.caps]
                + [t.max_impressions.count for t in self.triggers if t.max_impressions],
                default=0,
            ),
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)
