"""The value forms of the rule format: thresholds, names, cooldowns, prompt defaults."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.engine.rule_files.loader import load_rules
from tests.support.rule_sets import PLANS, trigger, with_triggers


# The lines and columns asserted below count from the top of PLANS, the file
# tests/support/rules/engine_plans.yaml.
def _problems(text: str) -> list[str]:
    return [str(problem) for problem in load_rules({"rules.yaml": text}).problems]


@pytest.mark.parametrize(
    ("written", "shown_as", "percent"),
    [
        ("80%", "80%", True),
        ('"80%"', "80%", True),
        ("12.5%", "12.5%", True),
        ("1", "1", False),
        ("2.5", "2.5", False),
        ("0", "0", False),
    ],
)
def test_threshold_is_a_number_or_a_percentage(written: str, shown_as: str, percent: bool) -> None:
    rules = with_triggers(trigger("t", threshold=written))
    threshold = rules.triggers[0].threshold
    assert str(threshold) == shown_as
    assert threshold.percent is percent


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("-1", "-1 is negative; a threshold is 0 or more"),
        ('"abc"', '"abc" is not a threshold'),
        ("true", "True is not a threshold"),
        ("-5%", '"-5%" is not a threshold'),
        (".nan", "nan is not a threshold"),
        (".inf", "inf is not a threshold"),
        ("[80]", "is not a threshold"),
    ],
)
def test_threshold_that_is_not_a_non_negative_number_is_an_error(
    written: str, message: str
) -> None:
    problems = _problems(PLANS + "triggers:\n" + trigger("t", threshold=written))
    assert len(problems) == 1
    assert problems[0].startswith('rules.yaml:20:5: trigger "t": "threshold": ')
    assert message in problems[0]


@pytest.mark.parametrize("limit", ["-1", '"3"', "true", ".inf", ".nan"])
def test_plan_limit_must_be_a_finite_non_negative_number(limit: str) -> None:
    problems = _problems(PLANS.replace("limits: {seats: 3,", f"limits: {{seats: {limit},"))
    assert len(problems) == 1
    assert problems[0].startswith('rules.yaml:10:14: plan "free": "seats": ')


@pytest.mark.parametrize("name", ["Seats", "1seats", "seats-used", "_seats", "sea ts"])
def test_metric_name_outside_lowercase_words_is_an_error(name: str) -> None:
    problems = _problems(PLANS.replace("  exports: {type: gauge}", f'  "{name}": {{type: gauge}}'))
    assert len(problems) == 1
    assert problems[0].startswith("rules.yaml:5:3: ")
    assert "is not a valid name" in problems[0]


def test_plan_name_outside_lowercase_words_is_an_error() -> None:
    problems = _problems(PLANS.replace("  business:", "  Business:"))
    assert len(problems) == 1
    assert problems[0].startswith("rules.yaml:15:3: ")
    assert '"Business" is not a valid name' in problems[0]


@pytest.mark.parametrize("trigger_id", ["seats-full", "2fa-gate", "x"])
def test_trigger_id_of_lowercase_words_and_dashes_loads(trigger_id: str) -> None:
    assert with_triggers(trigger(trigger_id)).triggers[0].id == trigger_id


@pytest.mark.parametrize("trigger_id", ["Seats_Full", "seats_full", "-seats", '"seats full"'])
def test_trigger_id_outside_lowercase_words_and_dashes_is_an_error(trigger_id: str) -> None:
    problems = _problems(PLANS + "triggers:\n" + trigger(trigger_id))
    assert len(problems) == 1
    assert problems[0].startswith("rules.yaml:18:5: ")
    assert "is not a valid trigger id" in problems[0]


@pytest.mark.parametrize(
    ("written", "expected"),
    [("30m", timedelta(minutes=30)), ("12h", timedelta(hours=12)), ("2w", timedelta(weeks=2))],
)
def test_cooldown_is_read_as_a_duration(written: str, expected: timedelta) -> None:
    rules = with_triggers(trigger("t", extra=f"cooldown: {written}"))
    assert rules.triggers[0].cooldown == expected


def test_trigger_defaults_cooldown_one_day_priority_zero_banner_every_placement() -> None:
    loaded = with_triggers(trigger("t")).triggers[0]
    assert loaded.cooldown == timedelta(days=1)
    assert loaded.priority == 0
    assert loaded.prompt.style == "banner"
    assert loaded.placements is None
    assert loaded.plans is None


def test_priority_must_be_a_whole_number() -> None:
    problems = _problems(PLANS + "triggers:\n" + trigger("t", extra="priority: 1.5"))
    assert len(problems) == 1
    assert '"priority": input should be a valid integer, got 1.5' in problems[0]


def test_prompt_without_title_is_an_error() -> None:
    text = PLANS + "triggers:\n  - {id: t, metric: seats, threshold: 1, prompt: {body: b}}\n"
    problems = _problems(text)
    assert len(problems) == 1
    assert 'trigger "t": missing required key "title"' in problems[0]


def test_unknown_top_level_section_suggests_the_right_one() -> None:
    problems = _problems(PLANS.replace("metrics:", "metircs:"))
    assert problems[0].startswith('rules.yaml:2:1: unknown key "metircs"; did you mean "metrics"?')


def test_unknown_key_in_a_metric_suggests_the_right_one() -> None:
    problems = _problems(PLANS.replace("{type: gauge}", "{type: gauge, descripton: x}", 1))
    assert len(problems) == 1
    assert 'unknown key "descripton"; did you mean "description"?' in problems[0]


@pytest.mark.parametrize("text", ["- a\n- b\n", "just words\n"])
def test_rule_file_that_is_not_a_mapping_is_an_error(text: str) -> None:
    assert _problems(text) == ["rules.yaml:1:1: a rule file must be a mapping of sections"]


def test_yaml_syntax_error_names_its_line() -> None:
    problems = _problems(PLANS + "triggers:\n  - id: [t\n")
    assert len(problems) == 1
    assert problems[0].startswith("rules.yaml:19:")
    assert "YAML syntax error" in problems[0]


def test_every_broken_trigger_is_reported_in_one_run() -> None:
    text = (
        PLANS
        + "triggers:\n"
        + "".join(
            [
                trigger("a", metric="seat"),
                trigger("b", extra="plans: [gold]"),
                trigger("c", title="{usag}"),
                trigger("d", title="{percent}% of {limt}"),
            ]
        )
    )
    problems = _problems(text)
    assert [p.split(": ", 1)[1].split(": ", 1)[0] for p in problems] == [
        'trigger "a"',
        'trigger "b"',
        'trigger "c"',
        'trigger "d"',
    ]


def test_no_rule_files_is_an_error() -> None:
    problems = load_rules({}).problems
    assert [p.message for p in problems] == ["no *.yaml or *.yml rule files found"]


@pytest.mark.parametrize(
    ("trigger_text", "typo"),
    [
        ("{id: t, metric: seats, threshold: 1, prompt: {titel: b}}", "titel"),
        ("{id: t, metric: seats, threshhold: 1, prompt: {title: b}}", "threshhold"),
    ],
)
def test_a_misspelled_required_key_is_one_mistake_not_also_a_missing_key(
    trigger_text: str, typo: str
) -> None:
    problems = _problems(PLANS + f"triggers:\n  - {trigger_text}\n")
    assert len(problems) == 1
    assert f'unknown key "{typo}"; did you mean' in problems[0]


def test_a_typo_in_another_key_still_shows_the_missing_one() -> None:
    text = PLANS + "triggers:\n  - {id: t, metric: seats, priorty: 1, prompt: {title: b}}\n"
    problems = _problems(text)
    assert any('missing required key "threshold"' in problem for problem in problems)
    assert any('unknown key "priorty"' in problem for problem in problems)


@pytest.mark.parametrize(
    "text", ["", "\n\n", "   \n", "# the seat triggers moved to seats.yaml\n"], ids=repr
)
def test_an_empty_rule_file_is_an_error_so_a_half_written_copy_drops_no_triggers(
    text: str,
) -> None:
    result = load_rules({"a.yaml": PLANS + "triggers:\n" + trigger("t"), "b.yaml": text})

    assert result.rules is None
    [problem] = result.problems
    assert problem.file == "b.yaml"
    assert "this rule file is empty" in problem.message
    assert "write {} in it" in problem.message


def test_a_rule_file_of_an_empty_mapping_is_empty_on_purpose() -> None:
    result = load_rules({"a.yaml": PLANS + "triggers:\n" + trigger("t"), "b.yaml": "{}\n"})

    assert result.problems == ()
