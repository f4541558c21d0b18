"""Merge the rule files of a set into one table of named specs, each with where it was written.

A metric, plan, trigger id or cap is defined once across all files, and `default_plan`
exactly once; the names one file uses may be defined in another, so references are
checked here, once every file is merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app.engine.model.rule_set import Location
from app.engine.problems import Problem
from app.engine.rule_files.schema import CapSpec, MetricSpec, PlanSpec, RuleFileSpec, TriggerSpec
from app.engine.rule_files.source import DataPath, SourceDocument
from app.engine.vocabulary import CapKey

T = TypeVar("T")
K = TypeVar("K", bound=str)  # a name: of a metric, a plan, a trigger, a cap


@dataclass
class Located(Generic[T]):
    """A spec and where its file wrote it: problems and the model's locations point there."""

    spec: T
    document: SourceDocument
    path: DataPath

    def problem(self, message: str, *subpath: str | int) -> Problem:
        return self.document.problem((*self.path, *subpath), message)

    def location(self, *subpath: str | int) -> Location:
        position = self.document.position((*self.path, *subpath))
        return Location(self.document.file, position.line, position.column)

    def key_locations(self, *keys: tuple[str, ...]) -> dict[str, Location]:
        """Where each of `keys` that was written stands, by its dotted name."""
        return {
            ".".join(key): self.location(*key)
            for key in keys
            if (*self.path, *key) in self.document.positions
        }


@dataclass
class MergedFiles:
    """Every file's definitions, by name, the first of each name kept."""

    metrics: dict[str, Located[MetricSpec]] = field(default_factory=dict)
    plans: dict[str, Located[PlanSpec]] = field(default_factory=dict)
    triggers: dict[str, Located[TriggerSpec]] = field(default_factory=dict)
    caps: dict[CapKey, Located[list[CapSpec]]] = field(default_factory=dict)
    default_plan: Located[str] | None = None


def merge_files(
    documents: Sequence[tuple[SourceDocument, RuleFileSpec]],
    problems: list[Problem],
    *,
    complete: bool,
) -> MergedFiles:
    """Every definition of `documents`; a name defined twice, or a second default_plan,
    is a problem (and so is no default_plan, when every file of the set was read)."""
    merged = MergedFiles()
    for document, spec in documents:
        for name, metric in spec.metrics.items():
            located_metric = Located(metric, document, ("metrics", name))
            _add(merged.metrics, name, located=located_metric, kind="metric", problems=problems)
        for name, plan in spec.plans.items():
            located_plan = Located(plan, document, ("plans", name))
            _add(merged.plans, name, located=located_plan, kind="plan", problems=problems)
        for index, trigger in enumerate(spec.triggers):
            located = Located(trigger, document, ("triggers", index))
            _add(merged.triggers, trigger.id, located=located, kind="trigger id", problems=problems)
        for key, cap in spec.caps.items():
            located_cap = Located(cap, document, ("caps", key))
            _add(merged.caps, key, located=located_cap, kind="cap", problems=problems)
        if spec.default_plan is not None:
            located_default = Located(spec.default_plan, document, ("default_plan",))
            if merged.default_plan is not None:
                problems.append(
                    located_default.problem(
                        "default_plan is set twice (also at "
                        f"{_where(merged.default_plan)}); keep one"
                    )
                )
            else:
                merged.default_plan = located_default
    if merged.default_plan is None and documents and complete:
        first = documents[0][0]
        problems.append(
            first.problem((), "no default_plan: add `default_plan: <plan>` to one rule file")
        )
    return merged


def _add(
    table: dict[K, Located[T]],
    name: K,
    *,
    located: Located[T],
    kind: str,
    problems: list[Problem],
) -> None:
    if name in table:
        problems.append(
            located.problem(f'{kind} "{name}" is defined twice (also at {_where(table[name])})')
        )
    else:
        table[name] = located


def _where(located: Located[T]) -> str:
    position = located.document.position(located.path)
    return f"{located.document.file}:{position.line}"


def check_references(merged: MergedFiles, problems: list[Problem]) -> None:
    """Every metric and plan named (by limits, default_plan, triggers) is defined."""
    for name, plan in merged.plans.items():
        for limited in plan.spec.limits:
            if limited not in merged.metrics:
                problems.append(
                    plan.problem(
                        f'plan "{name}": limit on unknown metric "{limited}"; '
                        f"known metrics: {_names(merged.metrics)}",
                        "limits",
                        limited,
                    )
                )
    default = merged.default_plan
    if default is not None and default.spec not in merged.plans:
        problems.append(
            default.problem(
                f'default_plan "{default.spec}" is not a plan; known plans: {_names(merged.plans)}'
            )
        )
    for trigger_id, trigger in merged.triggers.items():
        if trigger.spec.metric is not None and trigger.spec.metric not in merged.metrics:
            problems.append(
                trigger.problem(
                    f'trigger "{trigger_id}": unknown metric "{trigger.spec.metric}"; '
                    f"known metrics: {_names(merged.metrics)}",
                    "metric",
                )
            )
        for index, plan_name in enumerate(trigger.spec.plans or ()):
            if plan_name not in merged.plans:
                problems.append(
                    trigger.problem(
                        f'trigger "{trigger_id}": unknown plan "{plan_name}"; '
                        f"known plans: {_names(merged.plans)}",
                        "plans",
                        index,
                    )
                )


def _names(table: dict[str, Located[T]]) -> str:
    return ", ".join(sorted(table)) or "(none)"
