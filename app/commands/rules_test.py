"""`nudge rules test [DIR] [-v]`: run the rule tests in DIR/tests, in the manner of pytest.

Exit codes: 0 every case passed; 1 a case failed, a test file has errors, the rules
do not load, or there are no tests; 2 an invalid NUDGE_* setting (without DIR).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from app.commands.rule_loading import load_rules_or_report
from app.commands.settings import load_cli_settings
from app.engine import (
    TESTS_FOLDER,
    CaseResult,
    Problem,
    RuleSet,
    RuleTestFile,
    parse_rule_tests,
    read_rule_test_files,
    run_case,
    uncovered_triggers,
)

DOCS = "docs/rules-format.md#rule-tests"


def add_parser(subparsers: Any) -> None:
    """Add `test` to the `nudge rules` subcommands."""
    test = subparsers.add_parser(
        "test",
        help="run the rule tests in DIR/tests/*.yaml; exit 1 on any failure",
        description="Run the rule tests in DIR/tests/**/*.yaml against the rules in DIR.",
    )
    test.add_argument("dir", nargs="?", help="rules directory (default: NUDGE_RULES_DIR or rules)")
    test.add_argument(
        "-v", "--verbose", action="store_true", help="one line per case, PASSED or FAILED"
    )
    test.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    directory = args.dir or str(load_cli_settings().rules_dir)
    rules = load_rules_or_report(
        directory, then="test again: the rules must load before they can be tested"
    )
    if rules is None:
        return 1
    sources, errors = read_rule_test_files(directory)
    if not sources and not errors:
        print(
            f"no rule tests in {Path(directory) / TESTS_FOLDER}: add *.yaml files with "
            f"`tests:` there (see {DOCS})",
            file=sys.stderr,
        )
        return 1
    report = _Report(verbose=args.verbose)
    files: list[RuleTestFile] = []
    for problem in errors:
        report.file_done(problem.file, [], problems=[problem])
    for file, text in sources.items():
        # A case with a mistake is reported and left out; the file's other cases run.
        parsed, problems = parse_rule_tests(file, text, rules=rules)
        if parsed is not None:
            files.append(parsed)
        results = [run_case(rules, case) for case in parsed.cases] if parsed else []
        report.file_done(file, results, problems=problems)
    report.finish(rules, files, seconds=time.perf_counter() - started)
    return 0 if report.ok else 1


class _Report:
    """Prints as the run goes, like pytest: progress per file, then failures, then a summary."""

    def __init__(self, *, verbose: bool) -> None:
        self.verbose = verbose
        self.width = min(shutil.get_terminal_size((80, 24)).columns, 100)
        self.passed = 0
        self.failures: list[CaseResult] = []
        self.errors: list[Problem] = []

    @property
    def ok(self) -> bool:
        return not self.failures and not self.errors

    def file_done(self, file: str, results: list[CaseResult], *, problems: list[Problem]) -> None:
        """One file's progress: E for its errors, then . or F per case that ran."""
        self.errors.extend(problems)
        for result in results:
            if result.passed:
                self.passed += 1
            else:
                self.failures.append(result)
        if self.verbose:
            if problems:
                print(f"{file} ERROR")
            for result in results:
                print(f"{result.case.id} {'PASSED' if result.passed else 'FAILED'}")
        else:
            marks = ("E" if problems else "") + "".join(
                "." if result.passed else "F" for result in results
            )
            print(f"{file} {marks}".rstrip())

    def finish(self, rules: RuleSet, files: list[RuleTestFile], *, seconds: float) -> None:
        if self.errors:
            print()
            print(self._rule("ERRORS", "="))
            for problem in self.errors:
                print(problem.report())
        if self.failures:
            print()
            print(self._rule("FAILURES", "="))
            for result in self.failures:
                self._failure(result)
        if not self.errors:  # a broken file's cases are unknown: no false alarm
            self._coverage(rules, files)
        print(self._rule(self._summary(seconds), "="))

    def _failure(self, result: CaseResult) -> None:
        case = result.case
        print(self._rule(case.id, "_"))
        for line in result.diff:
            print(line)
        if result.reasons:
            print("why:")
            for reason in result.reasons:
                print(f"  {reason}")
        print(f"{case.file}:{case.line}: case failed")
        print()

    def _coverage(self, rules: RuleSet, files: list[RuleTestFile]) -> None:
        uncovered = uncovered_triggers(rules, files)
        if not uncovered:
            return
        named = ", ".join(
            f"{trigger_id} ({rules.by_id[trigger_id].location})"
            if rules.by_id[trigger_id].location
            else trigger_id
            for trigger_id in uncovered
        )
        print(f"warning: not covered by any test: {named}; add a case that expects each to fire")

    def _summary(self, seconds: float) -> str:
        parts = [f"{self.passed} passed", f"{len(self.failures)} failed"]
        if self.errors:
            count = len(self.errors)
            parts.append(f"{count} error" + ("" if count == 1 else "s"))
        return f"{', '.join(parts)} in {seconds:.2f}s"

    def _rule(self, title: str, fill: str) -> str:
        """A title centred in a line of `fill`, as pytest draws its section headers."""
        return f" {title} ".center(max(self.width, len(title) + 6), fill)
