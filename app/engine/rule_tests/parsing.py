"""Rule-test files read into cases: what an account's user should get, checked against the rules.

`parse_rule_tests(file, text, rules=...)` is pure and reports every problem of a file at
once, located by line and column; `read_rule_test_files` is the thin shell that reads
the files. running.py runs the cases.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from app.engine.model.rule_set import RuleSet
from app.engine.model.state import AccountState, Impression
from app.engine.problems import Problem
from app.engine.rule_files.rules_dir import TESTS_FOLDER, read_yaml_files
from app.engine.rule_files.source import DataPath, SourceDocument, parse_yaml
from app.engine.rule_files.validation_messages import error_message, reported_errors
from app.engine.rule_tests.checks import check_case
from app.engine.rule_tests.diff import PROMPT_KEYS
from app.engine.rule_tests.schema import (
    DEFAULT_NOW,
    CaseSpec,
    ImpressionSpec,
    PromptExpect,
    RuleTestFileSpec,
)


@dataclass(frozen=True, slots=True)
class RuleTestCase:
    file: str
    name: str
    line: int  # where the case starts
    now: datetime
    placement: str | None
    state: AccountState
    # Each expected prompt as the keys the case gives (cta as {"label", "url"} given);
    # None: prompts are not checked. Signals and shadowed are trigger ids, any order.
    expected_prompts: tuple[Mapping[str, Any], ...] | None
    expected_signals: frozenset[str] | None
    expected_shadowed: frozenset[str] | None

    @property
    def id(self) -> str:
        """`file::name`, as the report names the case."""
        return f"{self.file}::{self.name}"

    def expected_triggers(self) -> set[str]:
        """The triggers this case expects to fire (prompts, signals, shadowed)."""
        found = {str(prompt["trigger"]) for prompt in self.expected_prompts or ()}
        return found | set(self.expected_signals or ()) | set(self.expected_shadowed or ())


@dataclass(frozen=True, slots=True)
class RuleTestFile:
    file: str
    cases: tuple[RuleTestCase, ...]


def read_rule_test_files(directory: str | Path) -> tuple[dict[str, str], list[Problem]]:
    """The rule-test files under `directory`/tests (recursively, sorted), by path."""
    root = Path(directory) / TESTS_FOLDER
    if not root.is_dir():
        return {}, []
    return read_yaml_files(root, "test file")


def parse_rule_tests(
    file: str, text: str, *, rules: RuleSet
) -> tuple[RuleTestFile | None, list[Problem]]:
    """Parse and check one test file against `rules`: the cases that have no problem of
    their own (None if the file has no readable list of cases), and every problem.

    A mistake in one case (a misspelled key, an unknown metric) leaves that case out and
    names it; the file's other cases still run."""
    document, problems = parse_yaml(file, text)
    if problems:
        return None, problems
    data = document.data
    if not isinstance(data, dict):
        message = (
            "this test file is empty; write `tests:` and a list of cases"
            if data is None
            else "a test file must be a mapping with the key `tests:` (a list of cases)"
        )
        return None, [document.problem((), message)]
    first_line: dict[str, int] = {}
    cases = []
    valid, broken = _valid_cases(data, document, problems=problems)
    for index, case, dropped in valid:
        path: DataPath = ("tests", index)
        line = document.position(path).line
        if case.name in first_line:
            problems.append(
                document.problem(
                    (*path, "name"),
                    f'test "{case.name}" is named twice in this file (first at line '
                    f"{first_line[case.name]}); give each case its own name",
                )
            )
            continue
        first_line[case.name] = line
        found = [
            _at(document, (*path, *where), message=message)
            for where, message in check_case(case, rules, dropped=dropped)
        ]
        if found:
            problems.extend(found)
            continue
        if index not in broken:
            cases.append(_build_case(case, rules, file=file, line=line))
    if not isinstance(data.get("tests"), list):
        return None, sorted(problems)
    return RuleTestFile(file, tuple(cases)), sorted(problems)


def _valid_cases(
    data: dict[str, Any], document: SourceDocument, *, problems: list[Problem]
) -> tuple[list[tuple[int, CaseSpec, set[DataPath]]], set[int]]:
    """The cases of the file that have the right shape once their bad values are left
    out, with their index and the paths (under the case) of the values left out, and the
    indexes of the cases that had bad values; the problems go to `problems`.

    A case with a bad value is still checked against the rules, so that one run reports
    every mistake of the file (not if a required key is what is wrong), but it does not run.
    """
    try:
        tests = RuleTestFileSpec.model_validate(data).tests
        return [(index, case, set()) for index, case in enumerate(tests)], set()
    except ValidationError as exc:
        problems.extend(_describe(exc, document))
        errors = exc.errors(include_url=False)
    broken = {
        loc[1]
        for e in errors
        if len(loc := e["loc"]) >= 2 and loc[0] == "tests" and isinstance(loc[1], int)
    }
    given = data.get("tests")
    if not isinstance(given, list):
        return [], broken
    valid = []
    for index, case in enumerate(given):
        bad = [e["loc"][2:] for e in errors if e["loc"][:2] == ("tests", index)]
        try:
            spec = CaseSpec.model_validate(_without(case, bad))
            valid.append((index, spec, {cut for path in bad if (cut := _up_to_list(path))}))
        except ValidationError:
            continue
    return valid, broken


def _without(data: Any, paths: Sequence[tuple[Any, ...]]) -> Any:
    """A copy of the mapping `data` without the values at `paths`.

    A path into a list drops the whole list, so that the items left keep their index
    (problems found in them are located by it).
    """
    if not isinstance(data, dict):
        return data
    cut = [_up_to_list(path) for path in paths]
    here = {path[0] for path in cut if len(path) == 1}
    return {
        key: _without(value, [p[1:] for p in cut if len(p) > 1 and p[0] == key])
        for key, value in data.items()
        if key not in here
    }


def _up_to_list(path: tuple[Any, ...]) -> tuple[Any, ...]:
    for index, part in enumerate(path):
        if isinstance(part, int) or part == "[key]":
            return path[:index]
    return path


def _at(document: SourceDocument, path: DataPath, *, message: str) -> Problem:
    return document.problem(path, _case_context(document, path) + message)


def _describe(exc: ValidationError, document: SourceDocument) -> list[Problem]:
    problems = []
    for error in reported_errors(exc, model=RuleTestFileSpec):
        path: DataPath = tuple(part for part in error["loc"] if part != "[key]")
        message = error_message(error, path, model=RuleTestFileSpec)
        problems.append(document.problem(path, _case_context(document, path) + message))
    return sorted(problems)


def _case_context(document: SourceDocument, path: DataPath) -> str:
    """Name the case a problem is about: `test "a full team sees the modal": `."""
    if len(path) < 2 or path[0] != "tests" or not isinstance(path[1], int):
        return ""
    tests = document.data.get("tests") if isinstance(document.data, dict) else None
    entry = tests[path[1]] if isinstance(tests, list) and path[1] < len(tests) else None
    name = entry.get("name") if isinstance(entry, dict) else None
    return f'test "{name}": ' if isinstance(name, str) else f"test #{path[1] + 1}: "


def _build_case(case: CaseSpec, rules: RuleSet, *, file: str, line: int) -> RuleTestCase:
    shown = _impressions(case.shown, rules)
    state = AccountState(
        plan=case.plan,
        usage=dict(case.usage),
        dismissed_at=dict(case.dismissed),
        attributes=dict(case.attributes),
        pending_since=dict(case.held_since),
        impressions=shown,
        # The account's impressions are every user's: this user's and the others'.
        account_impressions=(*shown, *_impressions(case.account_shown, rules)),
    )
    expect = case.expect
    prompts = None
    if expect.prompts is not None:
        prompts = tuple(_expected_prompt(prompt) for prompt in expect.prompts)
    return RuleTestCase(
        file=file,
        name=case.name,
        line=line,
        now=case.now or DEFAULT_NOW,
        placement=case.placement,
        state=state,
        expected_prompts=prompts,
        expected_signals=frozenset(expect.signals) if expect.signals is not None else None,
        expected_shadowed=frozenset(expect.shadowed) if expect.shadowed is not None else None,
    )


def _impressions(shown: Sequence[ImpressionSpec], rules: RuleSet) -> tuple[Impression, ...]:
    impressions = []
    for impression in shown:
        prompt = rules.by_id[impression.trigger].prompt
        assert prompt is not None  # check_case refuses impressions of signal-only triggers
        impressions.append(Impression(impression.trigger, prompt.style, impression.at))
    return tuple(impressions)


def _expected_prompt(prompt: PromptExpect) -> dict[str, Any]:
    """The keys the case gives (a key written as null included), in PROMPT_KEYS order."""
    given = prompt.model_fields_set
    expected: dict[str, Any] = {}
    for key in PROMPT_KEYS:
        if key not in given:
            continue
        value = getattr(prompt, key)
        if key == "cta" and value is not None:
            value = {k: getattr(value, k) for k in ("label", "url") if k in value.model_fields_set}
        expected[key] = value
    return expected
