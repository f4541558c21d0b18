"""Merge the rule files into one rule set, check what spans files, and compile it once.

After compiling, nothing is parsed on the request path: thresholds are numbers,
durations are timedeltas and prompt texts are pre-split templates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from app.engine.durations import parse_duration
from app.engine.expressions import Condition, ExpressionError, compile_condition
from app.engine.model import (
    Cap,
    Frequency,
    Location,
    Metric,
    Plan,
    PromptTemplate,
    RuleSet,
    Threshold,
    Trigger,
)
from app.engine.problems import Problem
from app.engine.schema import (
    PERCENT,
    CapSpec,
    FrequencySpec,
    MetricSpec,
    PlanSpec,
    RuleFileSpec,
    TriggerSpec,
)
from app.engine.source import DataPath, SourceDocument
from app.engine.templating import METRIC_PLACEHOLDERS, Template, compile_template
from app.engine.vocabulary import COUNTER_WINDOWS, PROMPT_TEXT_FIELDS, CapKey, spelled_out

T = TypeVar("T")
K = TypeVar("K", bound=str)  # a name: of a metric, a plan, a trigger, a cap


@dataclass
class _Located(Generic[T]):
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
class _Merged:
    metrics: dict[str, _Located[MetricSpec]] = field(default_factory=dict)
    plans: dict[str, _Located[PlanSpec]] = field(default_factory=dict)
    triggers: dict[str, _Located[TriggerSpec]] = field(default_factory=dict)
    caps: dict[CapKey, _Located[list[CapSpec]]] = field(default_factory=dict)
    default_plan: _Located[str] | None = None


def compile_rules(
    documents: Sequence[tuple[SourceDocument, RuleFileSpec]],
    *,
    version: str,
    complete: bool = True,
    metric_names: Collection[str] | None = None,
) -> tuple[RuleSet | None, list[Problem]]:
    """Merge and compile; return the rule set, or None and every problem found.

    `complete=False` says some files of the set could not be read: what they
    define is unknown, so checks of names across files are skipped (they would
    report false "unknown metric" errors), while every other check still runs;
    conditions are then checked against `metric_names`, if given.
    """
    problems: list[Problem] = []
    merged = _merge(documents, problems, complete=complete)
    _check_windows(merged, problems)
    if complete:
        _check_references(merged, problems)
    triggers = []
    # Without every file compiled, the metrics conditions may read are those the caller
    # found in every file's text (None: unknown, when some file could not be parsed).
    if complete:
        metric_names = frozenset(merged.metrics)
    for located in merged.triggers.values():
        trigger = _compile_trigger(located, problems, metric_names=metric_names)
        if trigger is not None:
            triggers.append(trigger)
    if problems or merged.default_plan is None or not complete:
        return None, problems

    metrics = {
        name: Metric(name, m.spec.type, m.spec.window, m.spec.description, m.location())
        for name, m in merged.metrics.items()
    }
    plans = {name: _compile_plan(name, located) for name, located in merged.plans.items()}
    triggers = [_with_hold_facts(t, metrics) for t in triggers]
    ordered = tuple(sorted(triggers, key=lambda t: (-t.priority, t.id)))
    caps = tuple(
        Cap(key, _frequency(cap), cap.scope)
        for key, located in merged.caps.items()
        for cap in located.spec
    )
    spans = [cap.limit.per for cap in caps] + [
        t.max_impressions.per for t in ordered if t.max_impressions is not None
    ]
    rules = RuleSet(
        version=version,
        metrics=metrics,
        plans=plans,
        default_plan=merged.default_plan.spec,
        triggers=ordered,
        files=tuple(document.file for document, _ in documents),
        caps=caps,
        impressions_horizon=max(spans, default=None),
    )
    return rules, []


def _with_hold_facts(trigger: Trigger, metrics: dict[str, Metric]) -> Trigger:
    """A `for:` trigger with the windows of the counters it reads and its fingerprint."""
    if trigger.hold_for is None:
        return trigger
    read = set(trigger.condition.metrics) if trigger.condition else set()
    if trigger.metric is not None:
        read.add(trigger.metric)
    windows = frozenset(w for name in read if (w := metrics[name].window) is not None)
    about = (
        trigger.metric,
        str(trigger.threshold),
        trigger.condition.source if trigger.condition else None,
        sorted(trigger.plans) if trigger.plans is not None else None,
        trigger.hold_for.total_seconds(),
    )
    fingerprint = hashlib.sha256(repr(about).encode()).hexdigest()[:12]
    return replace(trigger, counter_windows=windows, hold_fingerprint=fingerprint)


def _frequency(spec: FrequencySpec) -> Frequency:
    return Frequency(spec.count, parse_duration(spec.per))


def _merge(
    documents: Sequence[tuple[SourceDocument, RuleFileSpec]],
    problems: list[Problem],
    *,
    complete: bool,
) -> _Merged:
    merged = _Merged()
    for document, spec in documents:
        for name, metric in spec.metrics.items():
            _add(
                merged.metrics,
                name,
                _Located(metric, document, ("metrics", name)),
                "metric",
                problems,
            )
        for name, plan in spec.plans.items():
            _add(merged.plans, name, _Located(plan, document, ("plans", name)), "plan", problems)
        for index, trigger in enumerate(spec.triggers):
            located = _Located(trigger, document, ("triggers", index))
            _add(merged.triggers, trigger.id, located, "trigger id", problems)
        for key, cap in spec.caps.items():
            _add(merged.caps, key, _Located(cap, document, ("caps", key)), "cap", problems)
        if spec.default_plan is not None:
            located_default = _Located(spec.default_plan, document, ("default_plan",))
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
    table: dict[K, _Located[T]],
    name: K,
    located: _Located[T],
    kind: str,
    problems: list[Problem],
) -> None:
    if name in table:
        problems.append(
            located.problem(f'{kind} "{name}" is defined twice (also at {_where(table[name])})')
        )
    else:
        table[name] = located


def _where(located: _Located[T]) -> str:
    position = located.document.position(located.path)
    return f"{located.document.file}:{position.line}"


def _check_windows(merged: _Merged, problems: list[Problem]) -> None:
    for name, metric in merged.metrics.items():
        if metric.spec.type == "counter" and metric.spec.window is None:
            problems.append(
                metric.problem(
                    f'metric "{name}": a counter needs a window ({spelled_out(COUNTER_WINDOWS)})'
                )
            )
        if metric.spec.type == "gauge" and metric.spec.window is not None:
            problems.append(
                metric.problem(
                    f'metric "{name}": a gauge takes no window; remove it or make it a counter',
                    "window",
                )
            )


def _check_references(merged: _Merged, problems: list[Problem]) -> None:
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


def _names(table: dict[str, _Located[T]]) -> str:
    return ", ".join(sorted(table)) or "(none)"


def problems_in_raw(
    document: SourceDocument, *, metric_names: Collection[str] | None
) -> list[Problem]:
    """Placeholder and condition problems in the triggers of a file that failed validation.

    Such a file is not compiled, but a rule author should still see every mistake in
    one run: its prompt texts and its conditions (against `metric_names`, the metrics
    every file defines; None when some file could not be read, so unknown) are checked
    where they can be found.
    """
    problems: list[Problem] = []
    triggers = document.data.get("triggers") if isinstance(document.data, dict) else None
    for index, trigger in enumerate(triggers if isinstance(triggers, list) else ()):
        if not isinstance(trigger, dict):
            continue
        name = trigger.get("id", f"#{index + 1}")
        when = trigger.get("when")
        if isinstance(when, str) and metric_names is not None:
            try:
                compile_condition(when, metrics=metric_names)
            except ExpressionError as exc:
                path: DataPath = ("triggers", index, "when")
                problems.append(_condition_problem(document, path, name, when, exc))
        prompt = trigger.get("prompt")
        for subpath in PROMPT_TEXT_FIELDS:
            text: object = prompt
            for key in subpath:
                text = text.get(key) if isinstance(text, dict) else None
            if not isinstance(text, str):
                continue
            try:
                compile_template(text)
            except ValueError as exc:
                path = ("triggers", index, "prompt", *subpath)
                problems.append(document.problem(path, f'trigger "{name}": {exc}'))
    return problems


def _compile_trigger(
    located: _Located[TriggerSpec],
    problems: list[Problem],
    *,
    metric_names: Collection[str] | None,
) -> Trigger | None:
    spec = located.spec
    before = len(problems)

    def template(text: str | None, *subpath: str) -> Template | None:
        if text is None:
            return None
        try:
            compiled = compile_template(text)
        except ValueError as exc:
            problems.append(located.problem(f'trigger "{spec.id}": {exc}', "prompt", *subpath))
            return None
        if spec.metric is None:
            for name in compiled.parts[1::2]:
                if name in METRIC_PLACEHOLDERS:
                    problems.append(
                        located.problem(
                            f'trigger "{spec.id}": placeholder "{{{name}}}" needs a metric: '
                            "add `metric:` and `threshold:`, or remove it",
                            "prompt",
                            *subpath,
                        )
                    )
                    return None
        return compiled

    condition = _condition(located, problems, metric_names=metric_names)
    prompt = None
    if spec.prompt is not None:
        title = template(spec.prompt.title, "title")
        cta = spec.prompt.cta
        body = template(spec.prompt.body, "body")
        cta_label = template(cta.label if cta else None, "cta", "label")
        cta_url = template(cta.url if cta else None, "cta", "url")
        if title is not None:
            prompt = PromptTemplate(spec.prompt.style, title, body, cta_label, cta_url)
    if len(problems) > before:
        return None
    return Trigger(
        id=spec.id,
        metric=spec.metric,
        threshold=_threshold(spec.threshold) if spec.threshold is not None else None,
        condition=condition,
        priority=spec.priority,
        cooldown=parse_duration(spec.cooldown),
        placements=frozenset(spec.placements) if spec.placements is not None else None,
        plans=frozenset(spec.plans) if spec.plans is not None else None,
        prompt=prompt,
        description=spec.description,
        hold_for=parse_duration(spec.hold_for) if spec.hold_for is not None else None,
        max_impressions=(
            _frequency(spec.max_impressions) if spec.max_impressions is not None else None
        ),
        shadow=spec.mode == "shadow",
        signal=spec.signal,
        location=located.location(),
        key_locations=located.key_locations(
            ("metric",),
            ("threshold",),
            ("when",),
            ("plans",),
            ("placements",),
            *(("prompt", *field) for field in PROMPT_TEXT_FIELDS),
        ),
    )


def _condition(
    located: _Located[TriggerSpec],
    problems: list[Problem],
    *,
    metric_names: Collection[str] | None,
) -> Condition | None:
    """Compile the trigger's `when`, or report its mistake at its line and column."""
    text = located.spec.when
    if text is None or metric_names is None:
        return None
    try:
        return compile_condition(text, metrics=metric_names)
    except ExpressionError as exc:
        path = (*located.path, "when")
        problems.append(_condition_problem(located.document, path, located.spec.id, text, exc))
        return None


def _condition_problem(
    document: SourceDocument, path: DataPath, trigger_id: object, text: str, exc: ExpressionError
) -> Problem:
    """A mistake in a condition, at its line and column inside the YAML value, with a caret."""
    where = document.value_position(path, exc.offset)
    return Problem(
        document.file,
        where.line,
        where.column,
        f'trigger "{trigger_id}": "when": {exc.message}',
        excerpt=exc.caret(text),
    )


def _compile_plan(name: str, located: _Located[PlanSpec]) -> Plan:
    spec = located.spec
    # An upgrade_to that names no plan loads (with a warning, see lint.py): the plan
    # then acts as if its upgrade had no limits.
    return Plan(
        name,
        dict(spec.limits),
        spec.upgrade_to,
        spec.description,
        location=located.location(),
        key_locations=located.key_locations(
            ("upgrade_to",), *(("limits", metric) for metric in spec.limits)
        ),
    )


def _threshold(value: float | str) -> Threshold:
    if isinstance(value, str):
        match = PERCENT.match(value)
        assert match is not None  # the schema has checked the form
        return Threshold(float(match.group(1)), percent=True)
    return Threshold(float(value), percent=False)
