"""Loading `when:` conditions: which keys a trigger needs, and every mistake in a condition
reported at its exact line and column inside the YAML value, with a caret under it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import app.engine.expressions
from app.engine.model.describe import describe_rules
from app.engine.problems import Problem
from app.engine.rule_files.loader import load_rules
from tests.support.rule_sets import PLANS, rules_from

# PLANS is the first file; this one holds the triggers, so lines below count from 1 here.
UNKNOWN = 'trigger "t": "when": unknown name "dashbords"; did you mean "dashboards"?'


def _problems(triggers: str) -> list[Problem]:
    result = load_rules({"a.yaml": PLANS, "b.yaml": "triggers:\n" + triggers})
    assert not result.ok
    return list(result.problems)


def _only(triggers: str) -> Problem:
    [problem] = _problems(triggers)
    assert problem.file == "b.yaml"
    return problem


def test_a_trigger_may_have_when_alone() -> None:
    rules = rules_from(
        PLANS,
        'triggers:\n  - id: t\n    when: "dashboards >= 2 and seats >= 3"\n'
        "    prompt: {title: Many dashboards}\n",
    )
    [trigger] = rules.triggers
    assert (trigger.metric, trigger.threshold) == (None, None)
    assert trigger.condition is not None
    assert trigger.condition.source == "dashboards >= 2 and seats >= 3"
    assert trigger.condition.metrics == {"dashboards", "seats"}


def test_a_trigger_may_have_metric_threshold_and_when() -> None:
    rules = rules_from(
        PLANS,
        "triggers:\n  - id: t\n    metric: seats\n    threshold: 80%\n"
        '    when: "plan in [\\"free\\"]"\n    prompt: {title: x}\n',
    )
    [trigger] = rules.triggers
    assert trigger.metric == "seats"
    assert str(trigger.threshold) == "80%"
    assert trigger.condition is not None


def test_a_condition_reads_metrics_defined_in_another_file() -> None:
    rules = rules_from(
        "metrics:\n  projects: {type: gauge}\n",
        PLANS,
        "triggers:\n  - id: t\n    when: projects > 1\n    prompt: {title: x}\n",
    )
    assert rules.triggers[0].condition is not None


def test_metric_without_threshold_names_the_missing_key() -> None:
    problem = _only("  - id: t\n    metric: seats\n    when: seats > 1\n    prompt: {title: x}\n")
    assert (problem.line, problem.column) == (2, 5)
    assert problem.message == 'trigger "t": missing required key "threshold"'


def test_threshold_without_metric_names_the_missing_key() -> None:
    problem = _only("  - id: t\n    threshold: 80%\n    prompt: {title: x}\n")
    assert (problem.line, problem.column) == (2, 5)
    assert problem.message == 'trigger "t": missing required key "metric"'


def test_a_trigger_with_neither_metric_nor_when_is_an_error() -> None:
    problem = _only("  - id: t\n    prompt: {title: x}\n")
    assert (problem.line, problem.column) == (2, 5)
    assert problem.message.startswith(
        'trigger "t": missing required key "when", or "metric" and "threshold"'
    )


def test_a_missing_threshold_is_reported_beside_another_mistake_in_the_trigger() -> None:
    problems = _problems(
        "  - id: t\n    metric: seats\n    cooldown: forever\n    prompt: {title: x}\n"
    )
    messages = sorted(p.message for p in problems)
    assert 'trigger "t": missing required key "threshold"' in messages
    assert any('"cooldown": "forever" is not a duration' in m for m in messages)


def test_when_must_be_text() -> None:
    problem = _only("  - id: t\n    when: true\n    prompt: {title: x}\n")
    assert (problem.line, problem.column) == (3, 5)  # where the key is, as other such errors
    assert '"when"' in problem.message


@pytest.mark.parametrize(
    ("value", "column", "excerpt"),
    [
        ("dashbords >= 2 and seats >= 3", 11, "dashbords >= 2 and seats >= 3\n^"),
        ("seats >= 3 and dashbords >= 2", 26, "seats >= 3 and dashbords >= 2\n               ^"),
        ('"seats >= 3 and dashbords >= 2"', 27, None),
        ("'seats >= 3 and dashbords >= 2'", 27, None),
        # Escapes in the YAML text are longer than the characters they stand for.
        ('"plan == \\"a\\" or dashbords >= 2"', 29, None),
        ("'plan == ''a'' or dashbords >= 2'", 29, None),
        ("\"plan == 'a' or dashbords >= 2\"", 27, None),
    ],
    ids=["plain", "plain-later", "double", "single", "double-escapes", "single-escapes", "mixed"],
)
def test_a_mistake_in_a_one_line_condition_is_located_in_the_file(
    value: str, column: int, excerpt: str | None
) -> None:
    problem = _only(f"  - id: t\n    when: {value}\n    prompt: {{title: x}}\n")
    assert (problem.line, problem.column) == (3, column)
    assert problem.message.startswith(UNKNOWN)
    if excerpt is not None:
        assert problem.excerpt == excerpt
    assert problem.excerpt is not None and problem.excerpt.endswith("^")


@pytest.mark.parametrize(
    ("when", "line", "column"),
    [
        ("|\n      seats >= 2\n      and dashbords >= 2\n", 5, 11),
        ("|\n      seats >= 2\n        and dashbords >= 2\n", 5, 13),
        ("|-\n\n      seats >= 2 and\n      dashbords >= 2\n", 6, 7),
        (">\n      seats >= 2\n      and dashbords >= 2\n", 5, 11),
        (">-\n        seats >= 2 and dashbords >= 2\n", 4, 24),
        ("|  # a comment\n      dashbords >= 2\n", 4, 7),
        ("seats >= 2\n      and dashbords >= 2\n", 4, 11),
        ('"seats >= 2\n      and dashbords >= 2"\n', 4, 11),
    ],
    ids=[
        "literal",
        "literal-more-indented",
        "literal-blank-first-line",
        "folded",
        "folded-deeper-indent",
        "literal-with-comment",
        "multi-line-plain",
        "multi-line-double-quoted",
    ],
)
def test_a_mistake_in_a_multi_line_condition_is_located_in_the_file(
    when: str, line: int, column: int
) -> None:
    problem = _only(f"  - id: t\n    when: {when}    prompt: {{title: x}}\n")
    assert (problem.line, problem.column) == (line, column)
    assert problem.message.startswith(UNKNOWN)


def test_a_mistake_at_the_end_of_a_block_condition_points_after_its_last_word() -> None:
    problem = _only("  - id: t\n    when: |\n      seats >=\n    prompt: {title: x}\n")
    assert (problem.line, problem.column) == (4, 15)
    assert problem.message == 'trigger "t": "when": expected an expression after ">="'
    assert problem.excerpt == "seats >=\n        ^"


def test_a_condition_error_prints_with_its_caret_under_the_problem_line() -> None:
    problem = _only("  - id: t\n    when: seats >= 2 and\n    prompt: {title: x}\n")
    assert problem.report() == (
        f"b.yaml:3:25: {problem.message}\n    seats >= 2 and\n                  ^"
    )
    assert problem.as_json()["excerpt"] == "seats >= 2 and\n              ^"
    assert problem.as_detail()["excerpt"] == "seats >= 2 and\n              ^"


def test_problems_without_an_excerpt_print_as_before() -> None:
    problem = _only("  - id: t\n    threshold: 80%\n    prompt: {title: x}\n")
    assert problem.excerpt is None
    assert (
        problem.report()
        == str(problem)
        == ('b.yaml:2:5: trigger "t": missing required key "metric"')
    )
    assert "excerpt" not in problem.as_json()
    assert "excerpt" not in problem.as_detail()


def test_every_condition_mistake_of_a_rule_set_is_reported_in_one_run() -> None:
    problems = _problems(
        "  - id: a\n    when: seats >\n    prompt: {title: x}\n"
        "  - id: b\n    when: limit.seat > 1\n    prompt: {title: x}\n"
    )
    assert [(p.line, p.column) for p in problems] == [(3, 18), (6, 17)]


@pytest.mark.parametrize(
    "placeholder", ["usage", "limit", "remaining", "percent", "metric", "upgrade_limit"]
)
def test_a_when_only_trigger_cannot_use_the_placeholders_of_a_metric(placeholder: str) -> None:
    problem = _only(
        f"  - id: t\n    when: seats > 1\n    prompt: {{title: x, body: 'a {{{placeholder}}}'}}\n"
    )
    assert problem.message == (
        f'trigger "t": placeholder "{{{placeholder}}}" needs a metric: add `metric:` and '
        "`threshold:`, or remove it"
    )
    assert problem.line == 4


def test_a_when_only_trigger_may_name_its_plan_and_upgrade_plan() -> None:
    rules = rules_from(
        PLANS,
        "triggers:\n  - id: t\n    when: seats > 1\n"
        "    prompt: {title: 'On {plan}', cta: {label: Go, url: '/up?plan={upgrade_plan}'}}\n",
    )
    assert rules.triggers[0].prompt.title.parts == ("On ", "plan", "")


def test_describe_shows_the_condition_and_a_null_metric() -> None:
    rules = rules_from(
        PLANS,
        "triggers:\n  - id: t\n    when: seats > 1\n    prompt: {title: x}\n"
        "  - id: u\n    metric: seats\n    threshold: 1\n    prompt: {title: x}\n",
    )
    described = {t["id"]: t for t in describe_rules(rules)["triggers"]}
    assert (described["t"]["metric"], described["t"]["threshold"]) == (None, None)
    assert described["t"]["when"] == "seats > 1"
    assert (described["u"]["metric"], described["u"]["threshold"], described["u"]["when"]) == (
        "seats",
        "1",
        None,
    )


def test_no_module_of_the_expression_package_runs_python_on_the_condition_text() -> None:
    package = Path(app.engine.expressions.__file__).parent
    modules = sorted(package.glob("*.py"))
    assert len(modules) >= 4
    for module in modules:
        tree = ast.parse(module.read_text())
        calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
        names = {func.id for func in calls if isinstance(func, ast.Name)}
        attributes = {func.attr for func in calls if isinstance(func, ast.Attribute)}
        assert not names & {"eval", "exec", "compile", "__import__"}, module.name
        assert not attributes & {"literal_eval", "eval", "exec"}, module.name


def test_a_condition_mistake_is_reported_beside_a_key_typo_in_the_same_trigger() -> None:
    # The file fails validation (the typo), yet its condition is still checked: every
    # mistake in one run, each at its line and column.
    problems = _problems(
        '  - id: t\n    when: "dashbords >= 2"\n    priorty: 5\n    prompt: {title: x}\n'
    )

    assert [(p.file, p.line, p.column) for p in problems] == [("b.yaml", 3, 12), ("b.yaml", 4, 5)]
    assert problems[0].message.startswith(UNKNOWN)
    assert problems[1].message == (
        'trigger "t": unknown key "priorty"; did you mean "priority"? (allowed here: id, '
        "metric, threshold, when, priority, cooldown, for, max_impressions, mode, signal, "
        "placements, plans, prompt, description)"
    )
    assert problems[0].excerpt == "dashbords >= 2\n^"


def test_a_condition_is_checked_while_another_file_has_an_error() -> None:
    result = load_rules(
        {
            "a.yaml": PLANS,
            "b.yaml": 'triggers:\n  - id: t\n    when: "dashbords >= 2"\n    prompt: {title: x}\n',
            "c.yaml": "triggers:\n  - id: u\n    threshhold: 1\n",
        }
    )

    [found] = [p for p in result.problems if p.file == "b.yaml"]
    assert (found.line, found.column) == (3, 12)
    assert found.message.startswith(UNKNOWN)


def test_conditions_are_not_judged_when_a_file_cannot_be_parsed() -> None:
    # What the broken file defines is unknown: "dashbords" might be one of its metrics.
    result = load_rules(
        {
            "a.yaml": PLANS,
            "b.yaml": 'triggers:\n  - id: t\n    when: "dashbords >= 2"\n    prompt: {title: x}\n',
            "c.yaml": "metrics: [\n",
        }
    )

    assert [p.file for p in result.problems] == ["c.yaml"]
