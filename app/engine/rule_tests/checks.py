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
    now = (case.now or DEFAULT_NOW) if ("now",) not in dropped else None
    check = _CaseCheck(rules, now=now)
    check.plan(case)
    check.usage_and_attributes(case)
    check.dismissed(case)
    check.shown(case)
    check.held_since(case)
    check.expect(case, expect_dropped=any(path[:1] == ("expect",) for path in dropped))
    return check.found


class _CaseCheck:
    """The mistakes found so far in one case of `rules`; its times are checked against
    `now` (None: not checked)."""

    def __init__(self, rules: RuleSet, *, now: datetime | None) -> None:
        self.rules = rules
        self.now = now
        self.found: list[Finding] = []

    def plan(self, case: CaseSpec) -> None:
        rules, found = self.rules, self.found
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
            message = _unknown("plan", case.plan, known=rules.plans)
            found.append(
                (
                    ("plan",),
                    f"{message}; to test an account on a plan removed from the rules, add "
                    "`removed_plan: true`",
                )
            )

    def usage_and_attributes(self, case: CaseSpec) -> None:
        for metric in case.usage:
            if metric not in self.rules.metrics:
                self.found.append(
                    (
                        ("usage", metric),
                        _unknown("metric", metric, known=self.rules.metrics, where="in usage"),
                    )
                )
        for name, value in case.attributes.items():
            problem = _not_json(value)
            if problem is not None:
                self.found.append((("attributes", name), f'attribute "{name}": {problem}'))

    def dismissed(self, case: CaseSpec) -> None:
        for trigger_id, at in case.dismissed.items():
            path: DataPath = ("dismissed", trigger_id)
            trigger = self.trigger(trigger_id, path, where="in dismissed")
            if trigger is not None and trigger.prompt is None:
                self.found.append((path, _no_prompt(trigger_id, "it cannot be dismissed")))
            self.before_now(path, at, what=f'dismissed "{trigger_id}" at')

    def shown(self, case: CaseSpec) -> None:
        for key in ("shown", "account_shown"):
            for index, impression in enumerate(getattr(case, key)):
                path: DataPath = (key, index, "trigger")
                trigger = self.trigger(impression.trigger, path, where=f"in {key}")
                if trigger is not None and trigger.prompt is None:
                    self.found.append((path, _no_prompt(impression.trigger, "never shown")))
                what = f'{key} "{impression.trigger}" at'
                self.before_now((key, index, "at"), impression.at, what=what)

    def held_since(self, case: CaseSpec) -> None:
        for trigger_id, since in case.held_since.items():
            path: DataPath = ("held_since", trigger_id)
            trigger = self.trigger(trigger_id, path, where="in held_since")
            if trigger is not None and trigger.hold_for is None:
                self.found.append(
                    (
                        path,
                        f'trigger "{trigger_id}" has no `for:`, so held_since does not apply '
                        "to it; held_since is for triggers with `for:`",
                    )
                )
            self.before_now(path, since, what=f'held_since "{trigger_id}"')

    def expect(self, case: CaseSpec, *, expect_dropped: bool) -> None:
        expect, found = case.expect, self.found
        given = (expect.prompts, expect.signals, expect.shadowed)
        if all(value is None for value in given) and not expect_dropped:
            found.append(
                (
                    ("expect",),
                    '"expect" needs "prompts", "signals" or "shadowed": what the user should '
                    "get ([] for nothing)",
                )
            )
        for index, prompt in enumerate(expect.prompts or ()):
            path: DataPath = ("expect", "prompts", index, "trigger")
            trigger = self.trigger(prompt.trigger, path, where="in expect.prompts")
            if trigger is None:
                continue
            if trigger.prompt is None:
                found.append((path, _no_prompt(prompt.trigger, "it is never among the prompts")))
            elif trigger.shadow:
                found.append(
                    (
                        path,
                        f'trigger "{prompt.trigger}" is in shadow mode, so it is never among '
                        "the prompts; expect it under `shadowed:`",
                    )
                )
        for index, trigger_id in enumerate(expect.signals or ()):
            path = ("expect", "signals", index)
            trigger = self.trigger(trigger_id, path, where="in expect.signals")
            if trigger is not None and (trigger.signal is None or trigger.shadow):
                why = "is in shadow mode" if trigger.shadow else "has no `signal:`"
                found.append((path, f'trigger "{trigger_id}" {why}, so it never records a signal'))
        for index, trigger_id in enumerate(expect.shadowed or ()):
            path = ("expect", "shadowed", index)
            trigger = self.trigger(trigger_id, path, where="in expect.shadowed")
            if trigger is not None and not trigger.shadow:
                found.append(
                    (
                        path,
                        f'trigger "{trigger_id}" is not in shadow mode (`mode: shadow`); '
                        "expect it under `prompts:`",
                    )
                )

    def trigger(self, trigger_id: str, path: DataPath, *, where: str) -> Trigger | None:
        """The trigger the case names; None, and a finding, if the rules have none."""
        trigger = self.rules.by_id.get(trigger_id)
        if trigger is None:
            self.found.append(
                (path, _unknown("trigger", trigger_id, known=self.rules.by_id, where=where))
            )
        return trigger

    def before_now(self, path: DataPath, at: datetime, *, what: str) -> None:
        if self.now is not None and at > self.now:
            self.found.append(
                (
                    path,
                    f"{what} {_time(at)} is after the case's now ({_time(self.now)}); "
                    "write a time before it, or set `now:` later",
                )
            )


def _unknown(kind: str, name: str, *, known: Iterable[str], where: str = "") -> str:
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
