"""`mode: shadow` and `max_impressions` only mean something for a trigger that shows a
prompt: on a signal-only trigger each is an error at the trigger's file, line and column."""

from __future__ import annotations

import pytest

from app.engine.problems import Problem
from app.engine.rule_files.loader import load_rules
from tests.support.rule_sets import PLANS, rules_from

# PLANS is a.yaml; the text under test is b.yaml, so its lines count from 1.
SIGNAL_ONLY = """triggers:
  - id: t
    metric: seats
    threshold: 80%
    signal: pql
"""
SHADOW_MESSAGE = (
    'trigger "t": "mode: shadow" needs a prompt: a shadow trigger records no signal, so '
    "without a prompt it would do nothing"
)
MAX_IMPRESSIONS_MESSAGE = (
    'trigger "t": "max_impressions" needs a prompt: it counts how often the prompt was shown'
)


def _only(text: str) -> Problem:
    result = load_rules({"a.yaml": PLANS, "b.yaml": text})
    assert not result.ok
    problems = list(result.problems)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    mode: shadow\n", SHADOW_MESSAGE),
        ("    max_impressions: {count: 2, per: 1d}\n", MAX_IMPRESSIONS_MESSAGE),
    ],
    ids=["mode-shadow", "max-impressions"],
)
def test_a_key_that_needs_a_prompt_on_a_signal_only_trigger_is_an_error_at_the_trigger(
    extra: str, message: str
) -> None:
    problem = _only(SIGNAL_ONLY + extra)

    assert (problem.file, problem.line, problem.column) == ("b.yaml", 2, 5)
    assert problem.message == message
    assert str(problem) == f"b.yaml:2:5: {message}"


def test_a_shadow_trigger_after_another_is_located_at_its_own_line() -> None:
    text = (
        "triggers:\n"
        "  - id: fine\n    metric: seats\n    threshold: 100%\n    signal: pql\n"
        "  - id: t\n    metric: seats\n    threshold: 80%\n    signal: pql\n"
        "    mode: shadow\n"
    )

    problem = _only(text)

    assert (problem.file, problem.line, problem.column) == ("b.yaml", 6, 5)
    assert problem.message == SHADOW_MESSAGE


def test_both_keys_without_a_prompt_are_one_error_naming_the_shadow_mode() -> None:
    problem = _only(SIGNAL_ONLY + "    mode: shadow\n    max_impressions: {count: 2, per: 1d}\n")

    assert problem.message == SHADOW_MESSAGE


@pytest.mark.parametrize(
    "extra",
    ["    mode: shadow\n", "    max_impressions: {count: 2, per: 1d}\n"],
    ids=["mode-shadow", "max-impressions"],
)
def test_with_a_prompt_the_same_keys_load(extra: str) -> None:
    rules = rules_from(PLANS, SIGNAL_ONLY + "    prompt: {title: x}\n" + extra)

    assert [t.id for t in rules.triggers] == ["t"]


def test_a_live_signal_only_trigger_still_loads() -> None:
    rules = rules_from(PLANS, SIGNAL_ONLY + "    mode: live\n")

    [trigger] = rules.triggers
    assert (trigger.prompt, trigger.shadow, trigger.signal) == (None, False, "pql")
