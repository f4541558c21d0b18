"""Reading a rules directory: which files, in which order, and the version of what was read."""

from __future__ import annotations

import shutil
from pathlib import Path

from app.engine.rule_files.loader import load_rules_dir
from app.engine.rule_files.rules_dir import read_rules_dir
from tests.support.rule_sets import RULE_SETS

LAYOUT = RULE_SETS / "loader" / "layout.good"


def _copy(tmp_path: Path, name: str = "rules") -> Path:
    target = tmp_path / name
    shutil.copytree(LAYOUT, target)
    return target


def test_yaml_and_yml_files_are_read_recursively_in_sorted_path_order() -> None:
    files = [Path(name).relative_to(LAYOUT).as_posix() for name in read_rules_dir(LAYOUT)]
    assert files == ["a.yaml", "b/c.yml", "d.yaml"]


def test_files_under_the_tests_folder_are_not_rules() -> None:
    result = load_rules_dir(LAYOUT)
    assert result.problems == ()
    assert result.rules is not None
    assert {t.id for t in result.rules.triggers} == {"api-calls-capped", "seats-full"}


def test_other_files_are_ignored(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    (rules / "README.md").write_text("# not: [yaml")
    (rules / "notes.txt").write_text("metrics: oops")
    assert load_rules_dir(rules).problems == ()


def test_a_folder_named_tests_below_the_top_is_read(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    (rules / "b" / "tests").mkdir()
    (rules / "b" / "tests" / "x.yaml").write_text("bogus: 1\n")
    problems = load_rules_dir(rules).problems
    assert [(Path(p.file).relative_to(rules).as_posix(), p.line) for p in problems] == [
        ("b/tests/x.yaml", 1)
    ]


def test_the_first_file_in_path_order_keeps_a_name_defined_twice(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    (rules / "e.yaml").write_text((rules / "d.yaml").read_text())
    problems = load_rules_dir(rules).problems
    assert len(problems) == 1
    assert problems[0].file == str(rules / "e.yaml")
    assert f"also at {rules / 'd.yaml'}:2" in problems[0].message


def test_missing_rules_dir_is_reported_as_a_problem(tmp_path: Path) -> None:
    problems = load_rules_dir(tmp_path / "nowhere").problems
    assert len(problems) == 1
    assert "does not exist or is not a directory" in problems[0].message


def test_version_is_the_same_for_the_same_files() -> None:
    first, second = load_rules_dir(LAYOUT).rules, load_rules_dir(LAYOUT).rules
    assert first is not None and second is not None
    assert first.version == second.version


def test_version_does_not_depend_on_where_the_directory_lies(tmp_path: Path) -> None:
    here = load_rules_dir(_copy(tmp_path, "one")).rules
    moved = load_rules_dir(_copy(tmp_path / "elsewhere", "two")).rules
    assert here is not None and moved is not None
    assert here.version == moved.version


def test_version_changes_when_a_file_changes(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    before = load_rules_dir(rules).rules
    path = rules / "d.yaml"
    path.write_text(path.read_text().replace("Your team is full", "The team is full"))
    after = load_rules_dir(rules).rules
    assert before is not None and after is not None
    assert before.version != after.version


def test_version_ignores_the_tests_folder(tmp_path: Path) -> None:
    rules = _copy(tmp_path)
    before = load_rules_dir(rules).rules
    (rules / "tests" / "more_test.yaml").write_text("tests: []\n")
    after = load_rules_dir(rules).rules
    assert before is not None and after is not None
    assert before.version == after.version


def test_a_file_that_is_not_utf8_is_named_in_the_error(tmp_path: Path) -> None:
    shutil.copytree(LAYOUT, tmp_path / "rules")
    (tmp_path / "rules" / "zz.yaml").write_bytes(b"\xff\xfe not text")

    result = load_rules_dir(tmp_path / "rules")

    assert result.rules is None
    [problem] = result.problems
    assert problem.file == str(tmp_path / "rules" / "zz.yaml")
    assert "not UTF-8" in problem.message


def test_a_file_with_a_shape_error_still_reports_its_placeholder_errors(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "metrics: {seats: {type: gauge}}\n"
        "default_plan: free\n"
        "plans: {free: {upgrade_to: team}, team: {}}\n"
        "triggers:\n"
        "  - {id: t1, metric: seats, threshold: true, prompt: {title: ok}}\n"
        '  - {id: t2, metric: seats, threshold: 1, prompt: {title: "{usag}"}}\n'
    )

    result = load_rules_dir(tmp_path)

    assert [(p.line, p.message.split(":")[0]) for p in result.problems] == [
        (5, 'trigger "t1"'),
        (6, 'trigger "t2"'),
    ]
    assert 'unknown placeholder "{usag}"' in result.problems[1].message
