"""Rule files in tests/support/rules/loader: *.good load, *.bad fail with these exact locations,
*.warn load with these exact warnings.

In the manner of Prometheus rulefmt's tests: each bad fixture is listed with the
problems a rule author sees, as `file:line:column: message`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.problems import Problem
from app.engine.rule_files.loader import load_rules, load_rules_dir
from tests.support.rule_sets import RULE_SETS

FIXTURES = RULE_SETS / "loader"

# fixture -> every problem expected, as (line, column, a part of the message)
BAD_FILES: dict[str, list[tuple[int, int, str]]] = {
    "unknown_key.bad.yaml": [  # one mistake, not also a missing "threshold"
        (11, 5, 'unknown key "threshhold"; did you mean "threshold"?'),
    ],
    "repeated_key.bad.yaml": [
        (12, 5, 'key "threshold" is repeated in this mapping (first at line 11)'),
    ],
    "counter_without_window.bad.yaml": [
        (4, 3, 'metric "api_calls": a counter needs a window (hour, day, week or month)'),
    ],
    "gauge_with_window.bad.yaml": [
        (3, 24, 'metric "seats": a gauge takes no window'),
    ],
    "metric_name.bad.yaml": [
        (3, 3, '"Seats" is not a valid name: use lowercase letters, digits and _'),
    ],
    "trigger_id.bad.yaml": [
        (9, 5, '"Seats_Full" is not a valid trigger id: use lowercase letters, digits and -'),
    ],
    "unknown_placeholder.bad.yaml": [
        (13, 7, 'trigger "seats-full": unknown placeholder "{usag}"'),
    ],
    "trigger_unknown_metric.bad.yaml": [
        (10, 5, 'trigger "seats-full": unknown metric "seat"; known metrics: seats'),
    ],
    "limit_unknown_metric.bad.yaml": [
        (7, 24, 'plan "free": limit on unknown metric "dashboards"; known metrics: seats'),
    ],
    "default_plan_missing.bad.yaml": [
        (2, 1, "no default_plan: add `default_plan: <plan>` to one rule file"),
    ],
    "default_plan_unknown.bad.yaml": [
        (4, 1, 'default_plan "starter" is not a plan; known plans: free'),
    ],
    "trigger_unknown_plan.bad.yaml": [
        (12, 19, 'trigger "seats-full": unknown plan "enterprise"; known plans: free, team'),
    ],
    "bad_cooldown.bad.yaml": [
        (12, 5, '"cooldown": "3 days" is not a duration; write a whole number and a unit'),
    ],
    "yaml_syntax.bad.yaml": [
        (12, 5, "YAML syntax error: expected ',' or '}'"),
    ],
    "several_errors.bad.yaml": [
        (11, 5, '"threshold": "80 percent" is not a threshold'),
        (12, 36, "\"style\": input should be 'banner', 'modal', 'inline' or 'toast'"),
        (16, 5, '"cooldown": "forever" is not a duration'),
    ],
}

# a directory of several files -> (file, line, column, a part of the message)
BAD_DIRS: dict[str, list[tuple[str, int, int, str]]] = {
    "duplicate_names.bad": [
        ("b.yaml", 3, 3, 'metric "seats" is defined twice (also at {dir}/a.yaml:2)'),
        ("b.yaml", 5, 3, 'plan "team" is defined twice (also at {dir}/a.yaml:6)'),
        ("b.yaml", 7, 5, 'trigger id "seats-full" is defined twice (also at {dir}/a.yaml:8)'),
    ],
    "errors_in_two_files.bad": [
        ("a.yaml", 5, 19, 'plan "free": "seats": -3 is negative; a limit is 0 or more'),
        ("b.yaml", 4, 5, 'unknown key "metrc"; did you mean "metric"?'),
    ],
}


# fixture -> every warning expected, as (line, column, a part of the message)
WARN_FILES: dict[str, list[tuple[int, int, str]]] = {
    "upgrade_to_unknown.warn.yaml": [
        (6, 30, 'plan "free": upgrade_to names unknown plan "teams"; known plans: free, team'),
    ],
}


def _load_file(name: str) -> tuple[Problem, ...]:
    return load_rules({name: (FIXTURES / name).read_text()}).problems


def _assert_problems(
    problems: tuple[Problem, ...], expected: list[tuple[str, int, int, str]]
) -> None:
    assert len(problems) == len(expected), "\n".join(map(str, problems))
    for problem, (file, line, column, message) in zip(problems, expected, strict=True):
        assert str(problem).startswith(f"{file}:{line}:{column}: "), str(problem)
        assert message in problem.message


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_rule_file_reports_each_problem_at_its_line_and_column(name: str) -> None:
    expected = [(name, line, column, message) for line, column, message in BAD_FILES[name]]
    _assert_problems(_load_file(name), expected)


@pytest.mark.parametrize("name", sorted(BAD_DIRS))
def test_bad_rules_dir_reports_each_problem_with_its_file(name: str) -> None:
    directory = FIXTURES / name
    result = load_rules_dir(directory)
    assert result.rules is None
    expected = [
        (str(directory / file), line, column, message.format(dir=directory))
        for file, line, column, message in BAD_DIRS[name]
    ]
    _assert_problems(result.problems, expected)


def test_every_bad_fixture_has_its_expected_problems_listed() -> None:
    on_disk = {path.name for path in FIXTURES.glob("*.bad*")}
    assert on_disk == set(BAD_FILES) | set(BAD_DIRS)


@pytest.mark.parametrize("name", sorted(WARN_FILES))
def test_warned_rule_file_loads_and_reports_each_warning_at_its_line_and_column(
    name: str,
) -> None:
    result = load_rules({name: (FIXTURES / name).read_text()})
    assert result.rules is not None, "\n".join(map(str, result.problems))
    expected = [(name, line, column, message) for line, column, message in WARN_FILES[name]]
    _assert_problems(result.warnings, expected)
    assert all(str(w).startswith(f"{name}:{w.line}:{w.column}: warning: ") for w in result.warnings)


def test_every_warn_fixture_has_its_expected_warnings_listed() -> None:
    assert {path.name for path in FIXTURES.glob("*.warn*")} == set(WARN_FILES)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.good.yaml")), ids=lambda p: p.name)
def test_good_rule_file_loads_without_problems(path: Path) -> None:
    result = load_rules({path.name: path.read_text()})
    assert result.problems == ()
    assert result.rules is not None


def test_spec_core_example_loads_as_written() -> None:
    result = load_rules({"core.yaml": (FIXTURES / "spec_core.good.yaml").read_text()})
    rules = result.rules
    assert rules is not None
    assert set(rules.metrics) == {"seats", "dashboards", "api_calls", "history_days"}
    assert rules.metrics["api_calls"].type == "counter"
    assert rules.metrics["api_calls"].window == "month"
    assert rules.default_plan == "free"
    assert rules.plans["free"].limits == {
        "seats": 3,
        "dashboards": 3,
        "api_calls": 10000,
        "history_days": 30,
    }
    assert rules.plans["team"].upgrade_to == "business"
    assert rules.plans["business"].upgrade_to is None
    assert [t.id for t in rules.triggers] == ["seats-full", "seats-almost-full"]
    almost = rules.triggers[1]
    assert str(almost.threshold) == "80%"
    assert almost.cooldown.days == 3
    assert almost.placements == frozenset({"members", "global"})
    assert rules.triggers[0].prompt.style == "modal"
