"""`nudge rules test [DIR]`: run the rule tests in DIR/tests like pytest; exit 1 on any
failure, with a diff of expected against actual, or on a test file's located error."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.support.nudge_cli import SHIPPED_RULES, line_of, run_nudge

SUMMARY = re.compile(r"^=+ (\d+) passed, (\d+) failed(?:, (\d+) errors?)? in \d+\.\d\ds =+$")


def _written_case_count(directory: Path) -> int:
    """Cases as the test files write them, counted without the engine."""
    files = sorted((directory / "tests").rglob("*.yaml"))
    return sum(len(re.findall(r"^\s*- name:", f.read_text(), re.MULTILINE)) for f in files)


def _summary(stdout: str) -> tuple[int, int, int]:
    match = SUMMARY.match(stdout.splitlines()[-1])
    assert match is not None, stdout
    passed, failed, errors = match.groups()
    return int(passed), int(failed), int(errors or 0)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_shipped_rules_pass_their_tests_covering_every_trigger() -> None:
    done = run_nudge("rules", "test", str(SHIPPED_RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    *files, _summary_line = done.stdout.splitlines()
    assert len(files) >= 3
    for line in files:
        name, marks = line.rsplit(" ", 1)
        assert name.startswith(str(SHIPPED_RULES / "tests")), line
        assert set(marks) == {"."}, line
    assert "not covered" not in done.stdout  # every trigger has a case that expects it
    assert _summary(done.stdout) == (_written_case_count(SHIPPED_RULES), 0, 0)
    assert done.stderr == ""


def test_without_dir_the_rules_folder_is_tested() -> None:
    done = run_nudge("rules", "test")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("rules/tests/")


def test_without_dir_nudge_rules_dir_is_tested(rules_dir: Path) -> None:
    _edit(rules_dir / "core.yaml", 'title: "Your team is full"', 'title: "Team full"')
    done = run_nudge("rules", "test", env={"NUDGE_RULES_DIR": str(rules_dir)})
    assert done.returncode == 1
    assert f"{rules_dir / 'tests' / 'seats.yaml'} " in done.stdout


def test_a_rule_edit_that_breaks_a_case_fails_with_a_diff(rules_dir: Path) -> None:
    _edit(
        rules_dir / "core.yaml", 'title: "Your team is full"', 'title: "Your team is fully booked"'
    )

    done = run_nudge("rules", "test", str(rules_dir))

    assert done.returncode == 1
    seats = rules_dir / "tests" / "seats.yaml"
    assert f"{seats} ..F" in done.stdout
    name = "a full free team sees only the full modal, not also almost full"
    failures = done.stdout.split(" FAILURES ", 1)[1]
    lines = failures.splitlines()
    header = next(index for index, line in enumerate(lines) if f"{seats}::{name}" in line)
    assert lines[header].startswith("_") and lines[header].endswith("_")
    case_line = line_of(seats, f"- name: {name}")
    assert lines[header + 1 : header + 7] == [
        "prompts (- expected, + actual):",
        "  - trigger: seats-full",
        "    style: modal",
        '-   title: "Your team is full"',
        '+   title: "Your team is fully booked"',
        "?                            ++++++++",
    ]
    assert f"{seats}:{case_line}: case failed" in lines
    total = _written_case_count(rules_dir)
    assert _summary(done.stdout) == (total - 1, 1, 0)


def test_a_failing_case_says_why_each_trigger_did_what_it_did(rules_dir: Path) -> None:
    _edit(rules_dir / "core.yaml", "threshold: 100%", "threshold: 110%")

    done = run_nudge("rules", "test", str(rules_dir))

    assert done.returncode == 1
    assert "- - trigger: seats-full" in done.stdout
    assert "+ - trigger: seats-almost-full" in done.stdout
    assert "why:\n  seats-almost-full: shown: 3 of 3 seats = 100% >= 80%\n" in done.stdout
    assert "  seats-full: below threshold: 3 of 3 seats = 100% < 110%\n" in done.stdout


def test_verbose_prints_one_line_per_case(rules_dir: Path) -> None:
    _edit(rules_dir / "core.yaml", 'title: "Your team is full"', 'title: "Team full"')

    done = run_nudge("rules", "test", str(rules_dir), "-v")

    assert done.returncode == 1
    seats = rules_dir / "tests" / "seats.yaml"
    results = [line for line in done.stdout.splitlines() if line.endswith(("PASSED", "FAILED"))]
    assert len(results) == _written_case_count(rules_dir)
    assert f"{seats}::a free team below 80% of its seats sees nothing PASSED" in results
    assert (
        f"{seats}::a full free team sees only the full modal, not also almost full FAILED"
        in results
    )


def test_a_mistake_in_a_test_file_is_an_error_with_file_line_and_column(rules_dir: Path) -> None:
    api = rules_dir / "tests" / "api.yaml"
    _edit(api, "usage: {api_calls: 8000}", "usage: {api_cals: 8000}")
    _edit(api, "placement: global", "placment: global")

    done = run_nudge("rules", "test", str(rules_dir))

    assert done.returncode == 1
    api_cases = len(re.findall(r"^\s*- name:", api.read_text(), re.MULTILINE))
    # E for the file's errors, then a dot for each of its other cases, which still run.
    assert f"{api} E{'.' * (api_cases - 2)}" in done.stdout.splitlines()
    errors = done.stdout.split(" ERRORS ", 1)[1].splitlines()[1:3]
    assert errors == [
        f"{api}:{line_of(api, 'api_cals')}:13: test \"80% of the month's calls brings up the "
        'banner on the API page": unknown metric "api_cals" in usage; did you mean '
        '"api_calls"? (metrics in the rules: api_calls, dashboards, history_days, seats)',
        f'{api}:{line_of(api, "placment")}:5: test "the percentage in the banner is rounded '
        'down": unknown key "placment"; did you mean "placement"? (allowed here: name, now, '
        "plan, removed_plan, attributes, usage, user, placement, dismissed, shown, "
        "account_shown, held_since, expect)",
    ]
    # Every case runs but the two with a mistake.
    assert _summary(done.stdout) == (_written_case_count(rules_dir) - 2, 0, 2)


def test_a_trigger_no_case_expects_is_a_warning(rules_dir: Path) -> None:
    extra = rules_dir / "extra.yaml"
    extra.write_text(
        "triggers:\n"
        "  - id: retail-welcome\n"
        "    when: 'account.industry == \"retail\"'\n"
        "    prompt: {title: Stores grow with team}\n"
    )

    done = run_nudge("rules", "test", str(rules_dir))

    assert done.returncode == 0, done.stdout
    assert (
        f"warning: not covered by any test: retail-welcome ({extra}:2); add a case "
        "that expects each to fire"
    ) in done.stdout.splitlines()


def test_rules_that_do_not_load_are_not_tested(rules_dir: Path) -> None:
    core = rules_dir / "core.yaml"
    _edit(core, "threshold: 80%", "threshhold: 80%")

    done = run_nudge("rules", "test", str(rules_dir))

    assert done.returncode == 1
    assert f"{core}:{line_of(core, 'threshhold')}:5: " in done.stderr
    assert "passed" not in done.stdout
    assert "the rules must load before they can be tested" in done.stderr


def test_a_rules_directory_without_tests_fails_and_says_where_to_put_them(rules_dir: Path) -> None:
    shutil.rmtree(rules_dir / "tests")

    done = run_nudge("rules", "test", str(rules_dir))

    assert done.returncode == 1
    assert f"no rule tests in {rules_dir / 'tests'}" in done.stderr


def test_without_dir_an_invalid_setting_is_exit_2_naming_it() -> None:
    done = run_nudge("rules", "test", env={"NUDGE_DEDUPE_TTL_HOURS": "2"})

    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "nudge: setting NUDGE_DEDUPE_TTL_HOURS: Input should be greater than or equal to 24\n"
    )


def test_with_dir_the_settings_are_not_read(rules_dir: Path) -> None:
    done = run_nudge("rules", "test", str(rules_dir), env={"NUDGE_DEDUPE_TTL_HOURS": "2"})

    assert done.returncode == 0, done.stdout + done.stderr
    assert _summary(done.stdout) == (_written_case_count(rules_dir), 0, 0)


def test_one_misspelled_key_is_reported_with_its_line_and_the_files_other_cases_run(
    rules_dir: Path,
) -> None:
    seats = rules_dir / "tests" / "seats.yaml"
    _edit(seats, "    expect:\n      prompts: []", "    exepct:\n      prompts: []")
    cases = len(re.findall(r"^\s*- name:", seats.read_text(), re.MULTILINE))

    done = run_nudge("rules", "test", str(rules_dir), "-v")

    assert done.returncode == 1
    assert (
        f'{seats}:{line_of(seats, "exepct")}:5: test "a free team below 80% of its seats sees '
        'nothing": unknown key "exepct"; did you mean "expect"?'
    ) in done.stdout
    ran = [line for line in done.stdout.splitlines() if line.startswith(f"{seats}::")]
    assert len(ran) == cases - 1
    assert not any("a free team below 80%" in line for line in ran)
    assert _summary(done.stdout) == (_written_case_count(rules_dir) - 1, 0, 1)
