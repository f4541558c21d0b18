"""Check a rule-test case against the rule set it tests: every name it uses, every time.

A typo in a test must fail loudly, not make the case pass by testing something
else (`plan: tem` would get no prompts, and `prompts: []` would hold). Each mistake is
returned with the path of the value it is about, so it can be located in the file.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from app.engine.model.rule_set import RuleSet, Trigger
from app.engine.rule_files.source import DataPath
from app.engine.rule_tests.schema import DEFAULT_NOW, CaseSpec

Finding = tuple[DataPath, str]  # (path under the case, message)

_LISTED = 12  # names listed in a hint before "and N more"


def check_case(
    case: CaseSpec, rules: RuleSet, *, dropped: Collection[DataPath] = ()
) -> list[Finding]:
    """Every mistake in `case`, by the path of the value it is about.

    `dropped`: the paths of the values that were written wrong (and reported), left out
    of `case`, such as `("now",)` or `("expect", "prompts")`. Nothing is said about what
    they would have been: times are not checked against a `now` written wrong, and an
    `expect` with a value written wrong (a bad prompt, a misspelled key) is not called
    empty.
    """
    found: list[Finding] = []
    now = (case.now or DEFAULT_NOW) if ("now",) not in dropped else None
    _check_plan(case, rules, found)
    for metric in case.usage:
        if metric not in rules.metrics:
            found.append(
                (("usage", metric), _unknown("metric", metric, rules.metrics, where="in usage"))
            )
    for name, value in case.attributes.items():
        problem = _not_json(value)
        if problem is not None:
            found.append((("attributes", name), f'attribute "{name}": {problem}'))
    for trigger_id, at in case.dismissed.items():
        path: DataPath = ("dismissed", trigger_id)
        trigger = _trigger(rules, trigger_id, path, "in dismissed", found)
        if trigger is not None and trigger.prompt is None:
            found.append((path, _no_prompt(trigger_id, "it cannot be dismissed")))
        _check_past(path, f'dismissed "{trigger_id}" at', at, now, found)
    for key in ("shown", "account_shown"):
        for index, impression in enumerate(getattr(case, key)):
            path = (key, index)
            trigger = _trigger(rules, impression.trigger, (*path, "trigger"), f"in {key}", found)
            if trigger is not None and trigger.prompt is None:
                found.append(((*path, "trigger"), _no_prompt(impression.trigger, "never shown")))
            _check_past(
                (*path, "at"), f'{key} "{impression.trigger}" at', impression.at, now, found
            )
    for trigger_id, since in case.held_since.items():
        path = ("held_since", trigger_id)
        trigger = _trigger(rules, trigger_id, path, "in held_since", found)
        if trigger is not None and trigger.hold_for is None:
            found.append(
                (
                    path,
                    f'trigger "{trigger_id}" has no `for:`, so held_since does not apply to it; '
                    "held_since is for triggers with `for:`",
                )
            )
        _check_past(path, f'held_since "{trigger_id}"', since, now, found)
    expect_dropped = any(path[:1] == ("expect",) for path in dropped)
    _check_expect(case, rules, found, expect_dropped=expect_dropped)
    return found


def _check_plan(case: CaseSpec, rules: RuleSet, found: list[Finding]) -> None:
    if case.plan is None:
        if case.removed_plan:
            found.append(
                (
                    ("removed_plan",),
                    '"removed_plan" needs "plan": name the plan the rules no longer have',
                )
            )
        return
    if case.removed_plan and case.plan in rules.plans:
        found.append(
            (
                ("removed_plan",),
                f'plan "{case.plan}" is in the rules, so it is not removed; '
                "remove `removed_plan: true`",
            )
        )
    elif not case.removed_plan and case.plan not in rules.plans:
        message = _unknown("plan", case.plan, rules.plans)
        found.append(
            (
                ("plan",),
                f"{message}; to test an account on a plan removed from the rules, add "
                "`removed_plan: true`",
            )
        )


def _check_expect(
    case: CaseSpec, rules: RuleSet, found: list[Finding], *, expect_dropped: bool
) -> None:
    expect = case.expect
    given = (expect.prompts, expect.signals, expect.shadowed)
    if all(value is None for value in given) and not expect_dropped:
        found.append(
            (
                ("expect",),
                '"expect" needs "prompts", "signals" or "shadowed": what the user should get '
                "([] for nothing)",
            )
        )
    for index, prompt in enumerate(expect.prompts or ()):
        path: DataPath = ("expect", "prompts", index, "trigger")
        trigger = _trigger(rules, prompt.trigger, path, "in expect.prompts", found)
        if trigger is None:
            continue
        if trigger.prompt is None:
            found.append((path, _no_prompt(prompt.trigger, "it is never among the prompts")))
        elif trigger.shadow:
            found.append(
                (
                    path,
                    f'trigger "{prompt.trigger}" is in shadow mode, so it is never among the '
                    "prompts; expect it under `shadowed:`",
                )
            )
    for index, trigger_id in enumerate(expect.signals or ()):
        path = ("expect", "signals", index)
        trigger = _trigger(rules, trigger_id, path, "in expect.signals", found)
        if trigger is not None and (trigger.signal is None or trigger.shadow):
            why = "is in shadow mode" if trigger.shadow else "has no `signal:`"
            found.append((path, f'trigger "{trigger_id}" {why}, so it never records a signal'))
    for index, trigger_id in enumerate(expect.shadowed or ()):
        path = ("expect", "shadowed", index)
        trigger = _trigger(rules, trigger_id, path, "in expect.shadowed", found)
        if trigger is not None and not trigger.shadow:
            found.append(
                (
                    path,
                    f'trigger "{trigger_id}" is not in shadow mode (`mode: shadow`); '
                    "expect it under `prompts:`",
                )
            )


def _trigger(
    rules: RuleSet, trigger_id: str, path: DataPath, where: str, found: list[Finding]
) -> Trigger | None:
    trigger = rules.by_id.get(trigger_id)
    if trigger is None:
        found.append((path, _unknown("trigger", trigger_id, rules.by_id, where=where)))
    return trigger


def _unknown(kind: str, name: str, known: Iterable[str], *, where: str = "") -> str:
    names = sorted(known)
    close = difflib.get_close_matches(name, names, n=1)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    listed = ", ".join(names[:_LISTED]) or "(none)"
    if len(names) > _LISTED:
        listed += f" and {len(names) - _LISTED} more"
    place = f" {where}" if where else ""
    return f'unknown {kind} "{name}"{place}{hint} ({kind}s in the rules: {listed})'


def _no_prompt(trigger_id: str, consequence: str) -> str:
    return f'trigger "{trigger_id}" has no prompt (it only records a signal), so {consequence}'


def _check_past(
    path: DataPath, what: str, at: datetime, now: datetime | None, found: list[Finding]
) -> None:
    if now is not None and at > now:
        found.append(
            (
                path,
                f"{what} {_time(at)} is after the case's now ({_time(now)}); "
                "write a time before it, or set `now:` later",
            )
        )


def _time(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _not_json(value: Any) -> str | None:
    """Why an attribute value is not one PUT /v1/accounts could store, if it is not."""
    if value is None or isinstance(value, str | bool | int | float):
        return None
    if isinstance(value, list):
        return next((p for p in map(_not_json, value) if p is not None), None)
    if isinstance(value, Mapping):
        return next((p for p in map(_not_json, value.values()) if p is not None), None)
    return (
        f"{value} is not a JSON value (YAML read it as a {type(value).__name__}); "
        "quote it to make it text"
    )
