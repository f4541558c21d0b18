"""Loading the keys of issue 3 items 2 and 3: `for`, `max_impressions`, `mode`, `signal` and
the top-level `caps`; what they compile to, and each mistake at its file, line and column."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.engine.model.rule_set import Cap, Frequency
from app.engine.problems import Problem
from app.engine.rule_files.loader import load_rules
from tests.support.rule_sets import PLANS, rules_from

# PLANS is a.yaml; the text under test is b.yaml, so its lines count from 1.
TRIGGER = """triggers:
  - id: t
    metric: seats
    threshold: 80%
    prompt: {title: x}
"""


def _problems(text: str, **more_files: str) -> list[Problem]:
    result = load_rules({"a.yaml": PLANS, "b.yaml": text, **more_files})
    assert not result.ok
    return list(result.problems)


def _only(text: str, **more_files: str) -> Problem:
    problems = _problems(text, **more_files)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def _at(problem: Problem) -> tuple[str, int, int]:
    return problem.file, problem.line, problem.column


# --- what the keys compile to ---------------------------------------------------------


def test_the_new_trigger_keys_compile_to_durations_counts_and_flags() -> None:
    rules = rules_from(
        PLANS,
        TRIGGER
        + "    for: 90m\n"
        + "    max_impressions: {count: 3, per: 7d}\n"
        + "    mode: shadow\n"
        + "    signal: pql\n",
    )

    [trigger] = rules.triggers
    assert trigger.hold_for == timedelta(minutes=90)
    assert trigger.max_impressions == Frequency(3, timedelta(days=7))
    assert trigger.shadow is True
    assert trigger.signal == "pql"
    assert trigger.prompt is not None
    assert rules.held_triggers == (trigger,)
    assert rules.impressions_horizon == timedelta(days=7)


def test_without_the_new_keys_a_trigger_is_live_immediate_and_unlimited() -> None:
    rules = rules_from(PLANS, TRIGGER)

    [trigger] = rules.triggers
    assert (trigger.hold_for, trigger.max_impressions, trigger.shadow, trigger.signal) == (
        None,
        None,
        False,
        None,
    )
    assert rules.held_triggers == ()
    assert rules.caps == ()
    assert rules.impressions_horizon is None  # the prompt path then reads no impressions


def test_mode_live_is_the_default_written_out() -> None:
    assert rules_from(PLANS, TRIGGER + "    mode: live\n").triggers[0].shadow is False


@pytest.mark.parametrize(
    ("written", "duration"),
    [("30m", timedelta(minutes=30)), ("12h", timedelta(hours=12)), ("3d", timedelta(days=3))],
)
def test_for_takes_every_duration_form(written: str, duration: timedelta) -> None:
    rules = rules_from(PLANS, TRIGGER + f"    for: {written}\n")
    assert rules.triggers[0].hold_for == duration


def test_a_signal_only_trigger_has_no_prompt() -> None:
    rules = rules_from(
        PLANS,
        "triggers:\n  - id: seats-pql\n    metric: seats\n    threshold: 100%\n"
        "    signal: pql\n    cooldown: 7d\n",
    )

    [trigger] = rules.triggers
    assert (trigger.prompt, trigger.signal, trigger.cooldown) == (None, "pql", timedelta(days=7))


def test_a_signal_only_trigger_may_have_a_condition_alone() -> None:
    rules = rules_from(
        PLANS, "triggers:\n  - id: aha\n    when: 'dashboards >= 2'\n    signal: pql\n"
    )
    assert rules.triggers[0].condition is not None


def test_a_single_cap_or_a_list_of_caps() -> None:
    rules = rules_from(
        PLANS,
        """caps:
  modal: {count: 1, per: 1d}
  any:
    - {count: 3, per: 1d}
    - {count: 10, per: 2w, scope: account}
""",
    )

    assert rules.caps == (
        Cap("modal", Frequency(1, timedelta(days=1)), "user"),
        Cap("any", Frequency(3, timedelta(days=1)), "user"),
        Cap("any", Frequency(10, timedelta(weeks=2)), "account"),
    )
    assert rules.impressions_horizon == timedelta(weeks=2)


@pytest.mark.parametrize("style", ["banner", "modal", "inline", "toast", "any"])
def test_caps_are_keyed_by_a_style_or_any(style: str) -> None:
    rules = rules_from(PLANS, f"caps:\n  {style}: {{count: 2, per: 12h, scope: account}}\n")
    assert rules.caps == (Cap(style, Frequency(2, timedelta(hours=12)), "account"),)


def test_caps_from_several_files_merge_by_key() -> None:
    rules = rules_from(
        PLANS, "caps:\n  modal: {count: 1, per: 1d}\n", "caps:\n  any: {count: 5, per: 3d}\n"
    )

    assert {cap.key for cap in rules.caps} == {"modal", "any"}
    assert rules.impressions_horizon == timedelta(days=3)


def test_the_impressions_horizon_is_the_longest_span_of_caps_and_max_impressions() -> None:
    rules = rules_from(
        PLANS,
        "caps:\n  modal: {count: 1, per: 1d}\n",
        TRIGGER + "    max_impressions: {count: 3, per: 2w}\n",
    )
    assert rules.impressions_horizon == timedelta(weeks=2)


# --- mistakes, each at its file, line and column --------------------------------------


def test_max_impressions_count_zero_is_an_error_at_the_count() -> None:
    problem = _only(TRIGGER + "    max_impressions: {count: 0, per: 7d}\n")

    assert _at(problem) == ("b.yaml", 6, 23)
    assert problem.message.startswith('trigger "t": "count": ')
    assert "greater than or equal to 1" in problem.message


def test_max_impressions_count_over_a_thousand_is_an_error() -> None:
    problem = _only(TRIGGER + "    max_impressions: {count: 1001, per: 7d}\n")

    assert _at(problem) == ("b.yaml", 6, 23)
    assert "1000" in problem.message


def test_max_impressions_bad_duration_is_an_error_at_the_per_key() -> None:
    problem = _only(TRIGGER + "    max_impressions:\n      count: 3\n      per: 7days\n")

    assert _at(problem) == ("b.yaml", 8, 7)
    assert problem.message == (
        'trigger "t": "per": "7days" is not a duration; write a whole number and a unit, '
        "such as 30m, 12h, 3d or 2w"
    )


def test_max_impressions_without_per_names_the_missing_key() -> None:
    problem = _only(TRIGGER + "    max_impressions: {count: 3}\n")

    assert _at(problem) == ("b.yaml", 6, 5)
    assert problem.message == 'trigger "t": missing required key "per"'


def test_max_impressions_written_as_a_number_says_how_to_write_it() -> None:
    problem = _only(TRIGGER + "    max_impressions: 3\n")

    assert _at(problem) == ("b.yaml", 6, 5)
    assert problem.message.startswith('trigger "t": "max_impressions": ')
    # The author's words, not the loader's: no internal class name, and the form to write.
    assert "FrequencySpec" not in problem.message
    assert "count" in problem.message and "per" in problem.message


def test_a_bad_for_duration_is_an_error() -> None:
    problem = _only(TRIGGER + "    for: an hour\n")

    assert _at(problem) == ("b.yaml", 6, 5)
    assert problem.message.startswith('trigger "t": "for": "an hour" is not a duration')
    assert "30m, 12h, 3d or 2w" in problem.message


def test_a_mode_typo_names_the_modes() -> None:
    problem = _only(TRIGGER + "    mode: shaddow\n")

    assert _at(problem) == ("b.yaml", 6, 5)
    assert problem.message.startswith('trigger "t": "mode": ')
    assert "'live' or 'shadow'" in problem.message
    assert "shaddow" in problem.message


def test_an_unknown_signal_type_names_the_known_one() -> None:
    problem = _only(TRIGGER + "    signal: mql\n")

    assert _at(problem) == ("b.yaml", 6, 5)
    assert problem.message.startswith('trigger "t": "signal": ')
    assert "'pql'" in problem.message and "mql" in problem.message


def test_fro_typo_suggests_for() -> None:
    problem = _only(TRIGGER + "    fro: 1h\n")

    assert _at(problem) == ("b.yaml", 6, 5)
    assert problem.message.startswith('trigger "t": unknown key "fro"; did you mean "for"?')
    assert "for, max_impressions, mode, signal" in problem.message


def test_max_impression_typo_suggests_max_impressions() -> None:
    problem = _only(TRIGGER + "    max_impression: {count: 3, per: 7d}\n")

    assert 'did you mean "max_impressions"?' in problem.message


def test_a_trigger_with_neither_prompt_nor_signal_is_an_error() -> None:
    problem = _only("triggers:\n  - id: t\n    metric: seats\n    threshold: 80%\n")

    assert _at(problem) == ("b.yaml", 2, 5)
    assert problem.message == (
        'trigger "t": missing required key "prompt", or "signal": a trigger shows a prompt, '
        "records a signal, or both"
    )


def test_a_missing_prompt_and_signal_is_reported_beside_another_mistake() -> None:
    problems = _problems(
        "triggers:\n  - id: t\n    metric: seats\n    threshold: 80%\n    for: soon\n"
    )

    messages = sorted(p.message for p in problems)
    assert any('missing required key "prompt", or "signal"' in m for m in messages)
    assert any('"for": "soon" is not a duration' in m for m in messages)


def test_an_unknown_cap_key_is_an_error_naming_the_keys() -> None:
    problem = _only("caps:\n  modals: {count: 1, per: 1d}\n")

    assert _at(problem) == ("b.yaml", 2, 3)
    assert problem.message == (
        'unknown cap "modals": caps are keyed by a style (banner, modal, inline, toast) or any'
    )


def test_an_unknown_key_in_a_cap_suggests_the_right_one() -> None:
    problem = _only("caps:\n  modal: {count: 1, per: 1d, scop: account}\n")

    assert problem.file == "b.yaml" and problem.line == 2
    assert 'unknown key "scop"; did you mean "scope"?' in problem.message


def test_a_bad_value_in_a_list_of_caps_is_an_error_at_its_key() -> None:
    problem = _only("caps:\n  any:\n    - count: 3\n      per: 1d\n    - count: 0\n      per: 1d\n")

    assert _at(problem) == ("b.yaml", 5, 7)
    assert "greater than or equal to 1" in problem.message


@pytest.mark.parametrize(
    ("cap", "line", "column", "phrase"),
    [
        ("    count: 0\n    per: 1d\n", 3, 5, "greater than or equal to 1"),
        ("    count: 1\n    per: daily\n", 4, 5, '"daily" is not a duration'),
        ("    count: 1\n    per: 1d\n    scope: everyone\n", 5, 5, "'user' or 'account'"),
    ],
    ids=["count", "per", "scope"],
)
def test_a_bad_value_in_a_single_cap_is_an_error_at_its_key(
    cap: str, line: int, column: int, phrase: str
) -> None:
    # A cap written alone (not in a list) must be located as exactly as one in a list.
    problem = _only("caps:\n  modal:\n" + cap)

    assert _at(problem) == ("b.yaml", line, column)
    assert phrase in problem.message


def test_a_cap_written_as_a_number_says_how_to_write_one() -> None:
    problem = _only("caps:\n  modal: 1\n")

    assert _at(problem) == ("b.yaml", 2, 3)
    # "input should be a valid list" misleads: one cap is a mapping {count, per}.
    assert "count" in problem.message and "per" in problem.message


def test_a_cap_defined_in_two_files_is_an_error_naming_both() -> None:
    problem = _only(
        "caps:\n  modal: {count: 1, per: 1d}\n",
        **{"c.yaml": "caps:\n  modal: {count: 2, per: 1d}\n"},
    )

    assert _at(problem) == ("c.yaml", 2, 3)
    assert problem.message == 'cap "modal" is defined twice (also at b.yaml:2)'


def test_a_trigger_problem_and_a_cap_problem_are_reported_in_one_run() -> None:
    problems = _problems("caps:\n  toasts: {count: 1, per: 1d}\n" + TRIGGER + "    mode: shade\n")

    assert sorted((p.line, p.column) for p in problems) == [(2, 3), (8, 5)]
