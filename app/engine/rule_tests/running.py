"""Run rule-test cases on the engine and say how the answer differs from what they expect.

A case runs through the engine's own `evaluate`, the code the service answers with, so
a test passes exactly when the service would answer so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.engine.model.evaluation import evaluate
from app.engine.model.rule_set import RuleSet
from app.engine.rule_tests.diff import ids_diff, prompts_diff
from app.engine.rule_tests.parsing import RuleTestCase, RuleTestFile


@dataclass(frozen=True, slots=True)
class CaseResult:
    case: RuleTestCase
    # What differs, for a terminal: empty when the case passed.
    diff: tuple[str, ...]
    # Why the triggers the expectation and the answer disagree on did what they did.
    reasons: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.diff


def run_case(rules: RuleSet, case: RuleTestCase) -> CaseResult:
    """Evaluate the case's account with the engine and compare with what it expects."""
    evaluation = evaluate(rules, case.state, placement=case.placement, now=case.now)
    decisions = evaluation.decisions
    diff: list[str] = []
    disputed: set[str] = set()
    if case.expected_prompts is not None:
        actual = evaluation.prompts
        lines = prompts_diff(case.expected_prompts, actual)
        if lines:
            diff += ["prompts (- expected, + actual):", *lines]
            expected_ids = {str(prompt["trigger"]) for prompt in case.expected_prompts}
            disputed |= expected_ids ^ {prompt.trigger for prompt in actual}
    for label, wanted, got in (
        ("signals", case.expected_signals, {t.id for t in evaluation.signals}),
        (
            "shadowed",
            case.expected_shadowed,
            {d.trigger.id for d in decisions if d.outcome == "shadow"},
        ),
    ):
        if wanted is not None and wanted != got:
            diff += [f"{label} (- expected, + actual):", *ids_diff(wanted, got)]
            disputed |= wanted ^ got
    by_id = {d.trigger.id: d for d in decisions}
    reasons = tuple(
        f"{trigger_id}: {by_id[trigger_id].reason}"
        for trigger_id in sorted(disputed)
        if trigger_id in by_id
    )
    return CaseResult(case, tuple(diff), reasons if diff else ())


def uncovered_triggers(rules: RuleSet, files: Sequence[RuleTestFile]) -> list[str]:
    """The ids of the triggers no case expects to fire, in display order."""
    expected: set[str] = set()
    for test_file in files:
        for case in test_file.cases:
            expected |= case.expected_triggers()
    return [trigger.id for trigger in rules.triggers if trigger.id not in expected]
