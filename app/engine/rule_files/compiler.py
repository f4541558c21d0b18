"""Compile the parsed rule files into one rule set: merged (merging.py), checked, built once.

After compiling, nothing is parsed on the request path: thresholds are numbers,
durations are timedeltas and prompt texts are pre-split templates.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import replace

from app.engine.durations import parse_duration
from app.engine.expressions import Condition, ExpressionError, compile_condition
from app.engine.model.rule_set import (
    Cap,
    Frequency,
    Metric,
    Plan,
    PromptTemplate,
    RuleSet,
    Threshold,
    Trigger,
)
from app.engine.model.templating import METRIC_PLACEHOLDERS, Template, compile_template
from app.engine.problems import Problem
from app.engine.rule_files.merging import Located, MergedFiles, check_references, merge_files
from app.engine.rule_files.schema import FrequencySpec, PlanSpec, RuleFileSpec, TriggerSpec
from app.engine.rule_files.source import DataPath, SourceDocument
from app.engine.rule_files.value_types import PERCENT
from app.engine.vocabulary import COUNTER_WINDOWS, PROMPT_TEXT_FIELDS, spelled_out


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
    merged = merge_files(documents, problems, complete=complete)
    _check_windows(merged, problems)
    if complete:
        check_references(merged, problems)
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


def _check_windows(merged: MergedFiles, problems: list[Problem]) -> None:
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
                problems.append(
                    _condition_problem(document, path, trigger_id=name, text=when, exc=exc)
                )
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
    located: Located[TriggerSpec],
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
    located: Located[TriggerSpec],
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
        problems.append(
            _condition_problem(
                located.document, path, trigger_id=located.spec.id, text=text, exc=exc
            )
        )
        return None


def _condition_problem(
    document: SourceDocument,
    path: DataPath,
    *,
    trigger_id: object,
    text: str,
    exc: ExpressionError,
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


def _compile_plan(name: str, located: Located[PlanSpec]) -> Plan:
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
