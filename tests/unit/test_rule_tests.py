"""Rule tests (rules/tests/*.yaml): parsed into cases, checked against the rules with
located errors, run on the engine, and compared with a diff a product manager reads."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from textwrap import dedent

import pytest

from app.engine.model.state import Impression
from app.engine.problems import Problem
from app.engine.rule_tests.parsing import (
    RuleTestCase,
    RuleTestFile,
    parse_rule_tests,
    read_rule_test_files,
)
from app.engine.rule_tests.running import CaseResult, run_case, uncovered_triggers
from tests.support.rule_sets import PLANS, rules_from

# PLANS: free has 3 seats and 100 API calls and upgrades to team (25 seats, 10000 calls).
RULES = rules_from(
    PLANS,
    """
caps:
  modal: {count: 1, per: 1d, scope: account}
triggers:
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    priority: 10
    cooldown: 3d
    placements: [members]
    prompt:
      style: banner
      title: "{usage} of {limit} seats used"
      body: "Upgrade to {upgrade_plan} for {upgrade_limit} seats."
      cta: {label: "Upgrade", url: "/upgrade?plan={upgrade_plan}"}
  - id: seats-full
    metric: seats
    threshold: 100%
    priority: 20
    prompt: {style: modal, title: "Your team is full"}
  - id: seats-pql
    metric: seats
    threshold: 3
    signal: pql
  - id: api-busy
    metric: api_calls
    threshold: 50%
    for: 1h
    max_impressions: {count: 2, per: 7d}
    prompt: {style: toast, title: "Busy month"}
  - id: api-shadow
    metric: api_calls
    threshold: 90%
    mode: shadow
    prompt: {title: "Shadow"}
""",
)


def _parse(text: str) -> RuleTestFile:
    parsed, problems = parse_rule_tests("seats.yaml", dedent(text), rules=RULES)
    assert problems == []
    assert parsed is not None
    return parsed


def _problems(text: str) -> list[str]:
    """The file's problems; a case with a problem of its own never runs."""
    parsed, problems = parse_rule_tests("seats.yaml", dedent(text), rules=RULES)
    assert problems
    if parsed is not None:
        broken = {problem.line for problem in problems}
        assert not any(case.line in broken for case in parsed.cases)
    return [str(problem) for problem in problems]


def _case(text: str) -> RuleTestCase:
    [case] = _parse(text).cases
    return case


def _run(text: str) -> CaseResult:
    return run_case(RULES, _case(text))


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- parsing ------------------------------------------------------------------------


def test_a_case_becomes_the_account_state_it_describes() -> None:
    case = _case(
        """
        tests:
          - name: everything given
            now: 2026-11-25T12:00:00Z
            plan: team
            attributes: {industry: saas, employees: 40}
            usage: {seats: 20, api_calls: 9000}
            user: alice
            placement: members
            dismissed: {seats-full: 2026-11-24T12:00:00+02:00}
            shown: [{trigger: api-busy, at: "2026-11-25T09:00:00Z"}]
            account_shown: [{trigger: seats-full, at: 2026-11-25T08:00:00Z}]
            held_since: {api-busy: 2026-11-25T10:00:00Z}
            expect:
              prompts: [{trigger: seats-almost-full, title: "20 of 25 seats used"}]
              signals: [seats-pql]
        """
    )
    assert (case.id, case.line) == ("seats.yaml::everything given", 3)
    assert case.now == _utc("2026-11-25T12:00:00")
    assert case.placement == "members"
    state = case.state
    assert state.plan == "team"
    assert state.usage == {"seats": 20, "api_calls": 9000}
    assert state.attributes == {"industry": "saas", "employees": 40}
    assert state.dismissed_at == {"seats-full": _utc("2026-11-24T10:00:00")}
    assert state.pending_since == {"api-busy": _utc("2026-11-25T10:00:00")}
    mine = Impression("api-busy", "toast", _utc("2026-11-25T09:00:00"))
    # The account's impressions are every user's: this user's and the others'.
    assert state.impressions == (mine,)
    assert state.account_impressions == (
        mine,
        Impression("seats-full", "modal", _utc("2026-11-25T08:00:00")),
    )
    assert case.expected_prompts == (
        {"trigger": "seats-almost-full", "title": "20 of 25 seats used"},
    )
    assert case.expected_signals == frozenset({"seats-pql"})
    assert case.expected_shadowed is None


def test_a_case_without_clock_or_plan_runs_on_new_years_day_2026_on_the_default_plan() -> None:
    case = _case(
        """
        tests:
          - name: defaults
            expect: {prompts: []}
        """
    )
    assert case.now == datetime(2026, 1, 1, tzinfo=UTC)
    assert case.state.plan is None
    assert case.placement is None
    assert case.expected_signals is None


def test_cases_of_a_file_keep_their_order_and_lines() -> None:
    parsed = _parse(
        """
        tests:
          - name: first
            expect: {prompts: []}

          - name: second
            expect: {signals: []}
        """
    )
    assert [(case.name, case.line) for case in parsed.cases] == [("first", 3), ("second", 6)]


def test_a_file_with_an_empty_list_of_tests_has_no_cases() -> None:
    assert _parse("tests: []\n").cases == ()


# --- errors, each located ----------------------------------------------------------------

CASE = """\
tests:
  - name: a full team
    now: 2026-11-25T12:00:00Z
    plan: free
    usage: {seats: 3}
    dismissed: {seats-almost-full: 2026-11-24T12:00:00Z}
    shown: [{trigger: seats-full, at: 2026-11-25T09:00:00Z}]
    held_since: {api-busy: 2026-11-25T10:00:00Z}
    expect:
      prompts:
        - trigger: seats-full
          title: "Your team is full"
      signals: [seats-pql]
"""

# An edit of CASE -> the one problem it makes, as line, column and message.
BAD_EDITS: dict[str, tuple[str, str, str]] = {
    "unknown key": (
        "    usage:",
        "    usge:",
        '5:5: test "a full team": unknown key "usge"; did you mean "usage"? (allowed here: name,',
    ),
    "unknown metric": (
        "{seats: 3}",
        "{seets: 3}",
        '5:13: test "a full team": unknown metric "seets" in usage; did you mean "seats"? '
        "(metrics in the rules: api_calls, dashboards, exports, seats)",
    ),
    "usage in words": (
        "{seats: 3}",
        "{seats: three}",
        '5:13: test "a full team": "seats": "three" is not a number; write one such as 3 or 2.5',
    ),
    "unknown plan": (
        "plan: free",
        "plan: fre",
        '4:5: test "a full team": unknown plan "fre"; did you mean "free"? (plans in the rules: '
        "business, free, team); to test an account on a plan removed from the rules, add "
        "`removed_plan: true`",
    ),
    "unknown trigger dismissed": (
        "{seats-almost-full:",
        "{seats-almost-ful:",
        '6:17: test "a full team": unknown trigger "seats-almost-ful" in dismissed; did you mean '
        '"seats-almost-full"?',
    ),
    "unknown trigger expected": (
        "- trigger: seats-full",
        "- trigger: seat-full",
        '11:11: test "a full team": unknown trigger "seat-full" in expect.prompts; did you mean',
    ),
    "time without zone": (
        "now: 2026-11-25T12:00:00Z",
        "now: 2026-11-25T12:00:00",
        '3:5: test "a full team": "now": 2026-11-25T12:00:00 has no time zone; add Z for UTC, '
        "as in 2026-11-25T12:00:00Z",
    ),
    "day without time": (
        "at: 2026-11-25T09:00:00Z",
        "at: 2026-11-25",
        '7:35: test "a full team": "at": 2026-11-25 is a day without a time; write a time too, '
        "as in 2026-11-25T00:00:00Z",
    ),
    "time in words": (
        "now: 2026-11-25T12:00:00Z",
        "now: yesterday noon",
        '3:5: test "a full team": "now": "yesterday noon" is not a time; write one such as '
        "2026-11-25T12:00:00Z (Z for UTC)",
    ),
    "dismissed after now": (
        "{seats-almost-full: 2026-11-24T12:00:00Z}",
        "{seats-almost-full: 2026-11-26T12:00:00Z}",
        '6:17: test "a full team": dismissed "seats-almost-full" at 2026-11-26T12:00:00Z is after '
        "the case's now (2026-11-25T12:00:00Z); write a time before it, or set `now:` later",
    ),
    "held_since without for": (
        "{api-busy: 2026",
        "{seats-full: 2026",
        '8:18: test "a full team": trigger "seats-full" has no `for:`, so held_since does not '
        "apply to it",
    ),
    "signal of a trigger without signal": (
        "signals: [seats-pql]",
        "signals: [seats-full]",
        '13:17: test "a full team": trigger "seats-full" has no `signal:`, so it never records a '
        "signal",
    ),
    "prompt of a signal-only trigger": (
        "- trigger: seats-full",
        "- trigger: seats-pql",
        '11:11: test "a full team": trigger "seats-pql" has no prompt (it only records a '
        "signal), so it is never among the prompts",
    ),
    "prompt of a shadow trigger": (
        "- trigger: seats-full",
        "- trigger: api-shadow",
        '11:11: test "a full team": trigger "api-shadow" is in shadow mode, so it is never among '
        "the prompts; expect it under `shadowed:`",
    ),
    "shown of a signal-only trigger": (
        "[{trigger: seats-full,",
        "[{trigger: seats-pql,",
        '7:14: test "a full team": trigger "seats-pql" has no prompt (it only records a '
        "signal), so never shown",
    ),
    "unknown expected key": (
        'title: "Your team is full"',
        'titel: "Your team is full"',
        '12:11: test "a full team": unknown key "titel"; did you mean "title"?',
    ),
    "nothing expected": (
        "      signals: [seats-pql]\n",
        "      signal: [seats-pql]\n",
        '13:7: test "a full team": unknown key "signal"; did you mean "signals"?',
    ),
    "name missing": (
        "  - name: a full team\n    now:",
        "  - now:",
        '2:5: test #1: missing required key "name"',
    ),
    "attribute that is a date": (
        "    plan: free\n",
        "    plan: free\n    attributes: {since: 2026-01-01}\n",
        '5:18: test "a full team": attribute "since": 2026-01-01 is not a JSON value (YAML read '
        "it as a date); quote it to make it text",
    ),
    "removed plan that is in the rules": (
        "    plan: free\n",
        "    plan: free\n    removed_plan: true\n",
        '5:5: test "a full team": plan "free" is in the rules, so it is not removed; remove '
        "`removed_plan: true`",
    ),
    "repeated key": (
        "    plan: free\n",
        "    plan: free\n    plan: team\n",
        '5:5: key "plan" is repeated in this mapping (first at line 4)',
    ),
}


@pytest.mark.parametrize("case", BAD_EDITS)
def test_a_mistake_in_a_test_file_is_an_error_at_its_line_and_column(case: str) -> None:
    old, new, expected = BAD_EDITS[case]
    assert old in CASE
    problems = _problems(CASE.replace(old, new, 1))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"seats.yaml:{expected}"), problems[0]


def test_the_unedited_case_is_valid() -> None:
    assert len(_parse(CASE).cases) == 1


def test_every_mistake_of_a_file_is_reported_in_one_run() -> None:
    text = CASE.replace("{seats: 3}", "{seets: 3}").replace("plan: free", "plan: fre")
    text = text.replace("title: ", "titel: ") + "  - name: a full team\n    expect: {}\n"
    located = [problem.split(": ", 1)[0] for problem in _problems(text)]
    assert located == [
        "seats.yaml:4:5",  # unknown plan: the case is checked despite its unknown key
        "seats.yaml:5:13",  # unknown metric
        "seats.yaml:12:11",  # titel
        "seats.yaml:14:5",  # the name used twice
    ]


def test_a_case_name_used_twice_in_a_file_is_an_error() -> None:
    problems = _problems(
        """
        tests:
          - name: same
            expect: {prompts: []}
          - name: same
            expect: {prompts: []}
        """
    )
    assert problems == [
        'seats.yaml:5:5: test "same" is named twice in this file (first at line 3); give each '
        "case its own name"
    ]


def test_a_case_that_expects_nothing_is_an_error() -> None:
    assert _problems("tests:\n  - name: vague\n    expect: {}\n") == [
        'seats.yaml:3:5: test "vague": "expect" needs "prompts", "signals" or "shadowed": what '
        "the user should get ([] for nothing)"
    ]


@pytest.mark.parametrize(
    ("expect", "expected"),
    [
        (
            '{prompts: [{trigger: seats-full, usage: "3"}]}',
            'seats.yaml:3:46: test "quoted": "usage": "3" is not a number; write one such as 3 '
            "or 2.5",
        ),
        (
            "{prompts: seats-full}",
            'seats.yaml:3:14: test "quoted": "prompts": input should be a valid list',
        ),
        (
            "{signal: [seats-pql]}",
            'seats.yaml:3:14: test "quoted": unknown key "signal"; did you mean "signals"?',
        ),
    ],
    ids=["bad value in a prompt", "prompts not a list", "misspelled key"],
)
def test_an_expectation_written_wrong_is_its_only_error_not_also_an_empty_expect(
    expect: str, expected: str
) -> None:
    problems = _problems(f"tests:\n  - name: quoted\n    expect: {expect}\n")
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "seats.yaml:1:1: this test file is empty; write `tests:` and a list of cases"),
        (
            "- name: x\n",
            "seats.yaml:1:1: a test file must be a mapping with the key `tests:` (a list of cases)",
        ),
        ("tests: {name: x}\n", 'seats.yaml:1:1: "tests": input should be a valid list, got'),
        ("test: []\n", 'seats.yaml:1:1: unknown key "test"; did you mean "tests"? (allowed here'),
        ("tests:\n  - name: [x\n", "seats.yaml:3:1: YAML syntax error: expected ',' or ']'"),
    ],
    ids=["empty", "list", "tests not a list", "typo", "yaml syntax"],
)
def test_a_file_that_is_not_a_list_of_tests_says_how_to_write_one(text: str, expected: str) -> None:
    problems = _problems(text)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_an_account_on_a_removed_plan_is_tested_with_removed_plan() -> None:
    result = _run(
        """
        tests:
          - name: legacy
            plan: legacy
            removed_plan: true
            usage: {seats: 50}
            expect: {prompts: [], signals: []}
        """
    )
    assert result.passed, result.diff


# --- running, and the diff -----------------------------------------------------------


def test_a_case_the_engine_agrees_with_passes_without_a_diff() -> None:
    result = _run(
        """
        tests:
          - name: full
            usage: {seats: 3}
            expect:
              prompts:
                - trigger: seats-full
                  style: modal
                  title: "Your team is full"
                  body: null
                  cta: null
                  metric: seats
                  usage: 3
                  limit: 3
                  plan: free
                  upgrade_plan: team
              signals: [seats-pql]
        """
    )
    assert (result.passed, result.diff, result.reasons) == (True, (), ())


def test_only_the_keys_a_case_gives_are_compared() -> None:
    result = _run(
        """
        tests:
          - name: almost full on team
            plan: team
            usage: {seats: 20}
            expect:
              prompts:
                - trigger: seats-almost-full
                  cta: {url: "/upgrade?plan=business"}
        """
    )
    assert result.passed, result.diff


def test_a_changed_text_shows_expected_and_actual_with_a_pointer() -> None:
    result = _run(
        """
        tests:
          - name: almost full on team
            plan: team
            usage: {seats: 20}
            expect:
              prompts:
                - trigger: seats-almost-full
                  title: "20 of 25 seats used"
                  body: "Upgrade to business for more seats."
        """
    )
    assert not result.passed
    assert list(result.diff) == [
        "prompts (- expected, + actual):",
        "  - trigger: seats-almost-full",
        '    title: "20 of 25 seats used"',
        '-   body: "Upgrade to business for more seats."',
        "?                                  ^^^^",
        '+   body: "Upgrade to business for 100 seats."',
        "?                                  ^^^",
    ]
    # The same trigger fired on both sides: nothing to explain.
    assert result.reasons == ()


def test_a_missing_prompt_and_an_unexpected_one_show_whole_with_the_reasons() -> None:
    result = _run(
        """
        tests:
          - name: thinks 3 of 25 is full
            plan: team
            usage: {seats: 24}
            placement: members
            expect:
              prompts:
                - trigger: seats-full
                  title: "Your team is full"
        """
    )
    assert list(result.diff) == [
        "prompts (- expected, + actual):",
        "- - trigger: seats-full",
        '-   title: "Your team is full"',
        "+ - trigger: seats-almost-full",
        "+   style: banner",
        '+   title: "24 of 25 seats used"',
    ]
    assert list(result.reasons) == [
        "seats-almost-full: shown: 24 of 25 seats = 96% >= 80%",
        "seats-full: below threshold: 24 of 25 seats = 96% < 100%",
    ]


def test_no_prompt_where_one_was_expected_reads_as_an_empty_list() -> None:
    result = _run(
        """
        tests:
          - name: elsewhere
            plan: team
            usage: {seats: 20}
            placement: billing
            expect:
              prompts: [{trigger: seats-almost-full}]
        """
    )
    assert list(result.diff) == [
        "prompts (- expected, + actual):",
        "- - trigger: seats-almost-full",
        "+ []",
    ]
    assert list(result.reasons) == [
        "seats-almost-full: placement mismatch: shows in members, not in billing"
    ]


def test_prompts_must_come_in_display_order() -> None:
    result = _run(
        """
        tests:
          - name: full, and busy for long enough
            now: 2026-11-25T12:00:00Z
            usage: {seats: 3, api_calls: 60}
            held_since: {api-busy: 2026-11-25T10:00:00Z}
            expect:
              prompts: [{trigger: api-busy}, {trigger: seats-full}]
        """
    )
    assert list(result.diff) == [
        "prompts (- expected, + actual):",
        "+ - trigger: seats-full",
        "  - trigger: api-busy",
        "- - trigger: seats-full",
    ]


@pytest.mark.parametrize(
    ("dismissed_at", "expected"),
    [("2026-11-23T13:00:00Z", "[]"), ("2026-11-22T12:00:00Z", "[{trigger: seats-almost-full}]")],
    ids=["within the 3-day cooldown", "after it"],
)
def test_dismissed_is_this_users_dismissal(dismissed_at: str, expected: str) -> None:
    result = _run(
        f"""
        tests:
          - name: dismissed
            now: 2026-11-25T12:00:00Z
            plan: team
            usage: {{seats: 20}}
            dismissed: {{seats-almost-full: {dismissed_at}}}
            expect: {{prompts: {expected}}}
        """
    )
    assert result.passed, result.diff


@pytest.mark.parametrize(
    ("held_since", "expected"),
    [
        (None, "[]"),
        ("2026-11-25T11:30:00Z", "[]"),
        ("2026-11-25T11:00:00Z", "[{trigger: api-busy}]"),
    ],
    ids=["never held", "held 30 minutes of 1h", "held 1h"],
)
def test_held_since_makes_a_for_trigger_fire_once_it_held_long_enough(
    held_since: str | None, expected: str
) -> None:
    held = f"held_since: {{api-busy: {held_since}}}" if held_since else ""
    result = _run(
        f"""
        tests:
          - name: busy
            now: 2026-11-25T12:00:00Z
            usage: {{api_calls: 60}}
            {held}
            expect: {{prompts: {expected}}}
        """
    )
    assert result.passed, result.diff


def test_shown_counts_against_max_impressions() -> None:
    text = """
        tests:
          - name: seen twice this week
            now: 2026-11-25T12:00:00Z
            usage: {api_calls: 60}
            held_since: {api-busy: 2026-11-20T00:00:00Z}
            shown:
              - {trigger: api-busy, at: 2026-11-24T12:00:00Z}
              - {trigger: api-busy, at: 2026-11-19T12:00:00Z}
            expect: {prompts: []}
        """
    assert _run(text).passed
    result = _run(text.replace("2026-11-19T12", "2026-11-18T11"))  # out of the 7 days
    assert list(result.diff) == [
        "prompts (- expected, + actual):",
        "- []",
        "+ - trigger: api-busy",
        "+   style: toast",
        '+   title: "Busy month"',
    ]


@pytest.mark.parametrize("who", ["shown", "account_shown"])
def test_modals_shown_to_anyone_in_the_account_count_against_an_account_cap(who: str) -> None:
    result = _run(
        f"""
        tests:
          - name: a modal was shown today
            now: 2026-11-25T12:00:00Z
            usage: {{seats: 3}}
            {who}: [{{trigger: seats-full, at: 2026-11-25T08:00:00Z}}]
            expect: {{prompts: []}}
        """
    )
    assert result.passed, result.diff


def test_signals_are_compared_in_any_order_and_diffed_as_a_list() -> None:
    passing = _run(
        """
        tests:
          - name: three seats is a lead
            usage: {seats: 3}
            expect: {signals: [seats-pql]}
        """
    )
    assert passing.passed
    failing = _run(
        """
        tests:
          - name: two seats is not yet
            usage: {seats: 2}
            expect: {signals: [seats-pql]}
        """
    )
    assert list(failing.diff) == ["signals (- expected, + actual):", "- [seats-pql]", "+ []"]
    assert list(failing.reasons) == ["seats-pql: below threshold: seats at 2 < 3"]


def test_shadowed_lists_the_shadow_triggers_that_would_have_shown() -> None:
    result = _run(
        """
        tests:
          - name: shadow at 90%
            usage: {api_calls: 95}
            expect:
              prompts: []
              shadowed: []
        """
    )
    assert list(result.diff) == ["shadowed (- expected, + actual):", "- []", "+ [api-shadow]"]


def test_a_case_that_checks_only_signals_ignores_prompts() -> None:
    result = _run(
        """
        tests:
          - name: only the signal matters
            usage: {seats: 3}
            expect: {signals: [seats-pql]}
        """
    )
    assert result.passed


# --- coverage and files --------------------------------------------------------------------


def test_triggers_no_case_expects_to_fire_are_listed_in_display_order() -> None:
    parsed = _parse(
        """
        tests:
          - name: full
            usage: {seats: 3}
            expect: {prompts: [{trigger: seats-full}]}
          - name: not busy
            usage: {api_calls: 1}
            expect: {prompts: [], signals: []}
        """
    )
    assert uncovered_triggers(RULES, [parsed]) == [
        "seats-almost-full",
        "api-busy",
        "api-shadow",
        "seats-pql",
    ]


def test_test_files_are_read_from_the_tests_folder_recursively_in_order(tmp_path: Path) -> None:
    (tmp_path / "core.yaml").write_text("metrics: {}\n")  # a rule file, not a test
    tests = tmp_path / "tests"
    (tests / "team").mkdir(parents=True)
    (tests / "b.yaml").write_text("tests: []\n")
    (tests / "a.yml").write_text("tests: []\n")
    (tests / "team" / "c.yaml").write_text("tests: []\n")
    (tests / "notes.md").write_text("not a test\n")
    (tests / "broken.yaml").write_bytes(b"tests: \xff\n")

    sources, problems = read_rule_test_files(tmp_path)

    assert list(sources) == [str(tests / name) for name in ("a.yml", "b.yaml", "team/c.yaml")]
    assert problems == [
        Problem(
            str(tests / "broken.yaml"),
            1,
            1,
            "cannot read this test file: not UTF-8 text (byte 7); save the file as UTF-8",
        )
    ]


def test_a_rules_directory_without_tests_folder_has_no_test_files(tmp_path: Path) -> None:
    assert read_rule_test_files(tmp_path) == ({}, [])
