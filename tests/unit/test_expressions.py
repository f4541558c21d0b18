"""`when:` conditions at run time: what each holds for an account, and when it is simply false."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from app.engine.expressions import Environment, compile_condition

METRICS = ("seats", "dashboards", "api_calls", "history_days")
FREE_LIMITS: dict[str, float | None] = {
    "seats": 3,
    "dashboards": 3,
    "api_calls": 10000,
    "history_days": 30,
}
ATTRIBUTES: dict[str, Any] = {
    "industry": "retail",
    "employees": 120,
    "trial": True,
    "score": 0.5,
    "churned_at": None,
    "tags": ["a", "b"],
    "address": {"city": "Lyon"},
}


def _env(
    usage: Mapping[str, float] | None = None,
    *,
    limits: Mapping[str, float | None] = FREE_LIMITS,
    plan: str = "free",
    attributes: Mapping[str, Any] = ATTRIBUTES,
) -> Environment:
    default_usage = {"seats": 3, "dashboards": 2, "api_calls": 0}
    return Environment(
        usage=default_usage if usage is None else usage,
        limits=limits,
        plan=plan,
        attributes=attributes,
    )


def _holds(text: str, env: Environment | None = None) -> bool:
    return compile_condition(text, metrics=METRICS).holds(env or _env())


@pytest.mark.parametrize(
    ("seats", "dashboards", "expected"),
    [(3, 2, True), (2, 2, False), (3, 1, False), (10, 10, True), (0, 0, False)],
)
def test_issue_example_holds_when_both_usages_are_reached(
    seats: float, dashboards: float, expected: bool
) -> None:
    env = _env({"seats": seats, "dashboards": dashboards})
    assert _holds("dashboards >= 2 and seats >= 3", env) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seats == 3", True),
        ("seats == 4", False),
        ("seats != 4", True),
        ("seats != 3", False),
        ("seats < 4", True),
        ("seats < 3", False),
        ("seats <= 3", True),
        ("seats <= 2", False),
        ("seats > 2", True),
        ("seats > 3", False),
        ("seats >= 3", True),
        ("seats >= 4", False),
        ("seats + 1 == 4", True),
        ("seats - 1 == 2", True),
        ("seats * 2 == 6", True),
        ("seats / 2 == 1.5", True),
        ("-seats == -3", True),
        ("- -seats == 3", True),
        ("seats > 1 and dashboards > 1", True),
        ("seats > 1 and dashboards > 5", False),
        ("seats > 5 or dashboards > 1", True),
        ("seats > 5 or dashboards > 5", False),
        ("not seats > 5", True),
        ("not seats > 1", False),
        ("not not seats > 1", True),
        ("seats in [1, 3]", True),
        ("seats in [1, 2]", False),
        ("seats not in [1, 2]", True),
        ("seats not in [3]", False),
        ("(seats > 1)", True),
        ("true", True),
        ("false", False),
        ("api_calls == 0", True),
        ("history_days == 0", True),  # never recorded: 0
        ("2.5 * 2 == 5", True),
        ("1e3 == 1000", True),
        ("1E-3 == 0.001", True),
        ("1 == 1.0", True),
        ('"a" < "b"', True),
        ('"b" <= "a"', False),
        ('"abc" == "abc"', True),
        ("'single' == \"single\"", True),
        (r'"say \"hi\"" == ' + "'say \"hi\"'", True),
        (r"'it\'s' == " + '"it\'s"', True),
        (r'"back\\slash" != "back/slash"', True),
        ("true == true", True),
        ("true != false", True),
    ],
)
def test_each_operator(text: str, expected: bool) -> None:
    assert _holds(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3 == 7", True),
        ("(1 + 2) * 3 == 9", True),
        ("10 - 4 - 3 == 3", True),  # left to right
        ("12 / 3 / 2 == 2", True),
        ("2 * 3 / 4 == 1.5", True),
        ("-2 * 3 == -6", True),
        ("-(2 + 3) == -5", True),
        ("8 - -2 == 10", True),
        ("1 + 2 == 3 and 2 > 1", True),  # arithmetic binds tighter than comparison
        ("true or false and false", True),  # and binds tighter than or
        ("(true or false) and false", False),
        ("not true or true", True),  # not binds tighter than or
        ("not (true or true)", False),
        ("not false and false", False),  # not binds tighter than and
        ("not seats == 4", True),  # comparison binds tighter than not
        ("not seats in [3]", False),
        ("seats - 1 in [2]", True),  # arithmetic binds tighter than in
        ('seats > 1 and seats < 5 or plan == "x"', True),
        ('plan == "x" or seats > 1 and seats < 5', True),
        ('plan == "x" or seats > 1 and seats > 5', False),
    ],
)
def test_precedence(text: str, expected: bool) -> None:
    assert _holds(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('plan in ["free", "team"]', True),
        ('plan in ["team", "business"]', False),
        ('plan not in ["team", "business"]', True),
        ("plan in ['free']", True),
        ('plan in ["free",]', True),
        ("seats in [-1, 3.0]", True),
        ("seats - 4 in [-1]", True),
        ('account.industry in ["retail", "media"]', True),
        ('account.industry in ["media"]', False),
        ("account.employees in [120, 200]", True),
        ('account.employees in ["120"]', False),  # a string never equals a number
        ("account.trial in [true]", True),
        ("account.trial in [1]", False),  # a boolean is not a number
        ("account.churned_at in [null]", True),
        ('account.churned_at not in ["2024-01-01"]', True),
    ],
)
def test_membership(text: str, expected: bool) -> None:
    assert _holds(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('account.industry == "retail"', True),
        ('account.industry != "retail"', False),
        ('account.industry == "media"', False),
        ('account.industry < "s"', True),
        ("account.employees >= 100", True),
        ("account.employees == 120.0", True),
        ("account.employees / 2 == 60", True),
        ("account.score * 2 == 1", True),
        ("account.trial", True),
        ("account.trial == true", True),
        ("account.trial and seats > 1", True),
        ("not account.trial", False),
        ("account.churned_at == null", True),
        ("account.churned_at != null", False),
        ("account.industry == 1", False),  # different types are never equal
        ("account.industry != 1", True),
        ("account.trial == 1", False),
    ],
)
def test_account_attributes(text: str, expected: bool) -> None:
    assert _holds(text) is expected


@pytest.mark.parametrize(("seats", "expected"), [(1, False), (2, True), (3, True), (4, True)])
def test_remaining_seats_against_the_plan_limit(seats: float, expected: bool) -> None:
    assert _holds("limit.seats - seats <= 1", _env({"seats": seats})) is expected


def test_plan_is_the_account_plan_name() -> None:
    assert _holds('plan == "team"', _env(plan="team"))
    assert not _holds('plan == "team"', _env(plan="free"))


UNLIMITED = {"seats": None}  # seats present but None; dashboards absent: both unlimited


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("seats >= limit.seats", False),
        ("seats < limit.seats", False),
        ("not (seats >= limit.seats)", False),  # the whole condition is false, not just >=
        ("limit.seats - seats <= 1", False),
        ("limit.seats - seats > 1", False),
        ("seats * 100 / limit.seats >= 80", False),
        ("-limit.seats < 0", False),
        ("limit.seats == null", True),
        ("limit.seats != null", False),
        ("limit.dashboards == null", True),
        ("seats == limit.seats", False),
        ("limit.seats in [null]", True),
        ("limit.seats == null or seats >= limit.seats", True),
        ('plan == "free" or seats >= limit.seats', True),  # `or` stops once it is true
        ('seats >= limit.seats or plan == "free"', False),  # evaluation stopped at the left
        ("seats > 100 and seats >= limit.seats", False),
    ],
)
def test_unlimited_limit(text: str, expected: bool) -> None:
    assert _holds(text, _env(limits=UNLIMITED)) is expected


def test_a_limited_plan_compares_normally() -> None:
    assert _holds("seats >= limit.seats")
    assert _holds("limit.seats != null")
    assert not _holds("limit.seats == null")


@pytest.mark.parametrize(
    "text",
    [
        "account.region == 'eu'",
        "account.region != 'eu'",
        "not (account.region == 'eu')",
        "account.region == null",
        "account.region in ['eu']",
        "account.region not in ['eu']",
        "account.region",
        "not account.region",
        "account.region == 'eu' or seats > 1",
        "seats > 1 and account.region != 'eu'",
    ],
)
def test_missing_attribute_makes_the_whole_condition_false(text: str) -> None:
    assert _holds(text) is False


def test_a_missing_attribute_is_not_read_once_or_has_decided() -> None:
    assert _holds("seats > 1 or account.region == 'eu'")


@pytest.mark.parametrize(
    "text",
    [
        "seats / api_calls > 1",
        "seats / (seats - 3) > 0",
        "not (seats / api_calls > 1)",
        "seats / api_calls != 1",
        "seats / account.score / (account.score - 0.5) > 0",
    ],
)
def test_division_by_zero_makes_the_condition_false(text: str) -> None:
    assert _holds(text) is False


def test_a_guard_before_a_division_keeps_it_from_running() -> None:
    assert _holds("api_calls == 0 or seats / api_calls > 1")
    assert not _holds("api_calls > 0 and seats / api_calls > 1")


@pytest.mark.parametrize(
    "text",
    [
        "account.industry > 3",  # a string ordered against a number
        "account.industry + 1 > 3",
        "-account.industry < 0",
        "account.trial + 1 == 2",  # a boolean is not a number
        "account.trial > 0",
        "account.industry and seats > 1",  # and/or/not need booleans
        "seats > 1 and account.industry",
        "account.employees or seats > 1",
        "not account.employees",
        "account.employees",  # the whole condition must be a boolean
        "account.churned_at > 1",  # null is not ordered
        "account.churned_at + 1 > 1",
        "account.tags == 'a'",  # lists and objects cannot be used at all
        "account.tags != 'a'",
        "account.address == null",
        "1e300 * 1e300 > 1",  # too large for a number
        "seats * 1e308 * 10 > 0",
    ],
)
def test_run_time_type_mismatch_makes_the_condition_false(text: str) -> None:
    assert _holds(text) is False


def test_attribute_numbers_too_large_for_a_float_make_the_condition_false() -> None:
    env = _env(attributes={"big": 10**400, "inf": float("inf")})
    assert not _holds("account.big > 0", env)
    assert not _holds("account.inf > 0", env)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("seats > 1", None),
        ("seats > 5", None),
        ("account.region == 'eu'", "account.region is missing"),
        ("seats / api_calls > 1", "division by zero: api_calls is 0"),
        (
            "seats >= limit.dashboards",
            '">=" compares two numbers or two strings, '
            "but seats is number 3 and limit.dashboards is unlimited",
        ),
        ("limit.dashboards - seats < 2", '"-" needs numbers, but limit.dashboards is unlimited'),
        ("account.industry + 1 > 1", '"+" needs numbers, but account.industry is string "retail"'),
        ("not account.employees", '"not" needs true or false, but account.employees is number 120'),
        ("account.tags == 1", "account.tags is a list, which conditions cannot use"),
        ("account.industry", 'the condition is string "retail", not true or false'),
    ],
)
def test_outcome_says_why_evaluation_stopped(text: str, reason: str | None) -> None:
    condition = compile_condition(text, metrics=METRICS)
    env = _env(limits={"seats": 3})
    assert condition.outcome(env) == (condition.holds(env), reason)


@pytest.mark.parametrize(
    ("text", "metrics"),
    [
        ("dashboards >= 2 and seats >= 3", {"dashboards", "seats"}),
        ("limit.seats - seats <= 1", {"seats"}),
        ("api_calls > limit.history_days", {"api_calls", "history_days"}),
        ('plan == "free" and account.industry == "retail"', set()),
    ],
)
def test_condition_lists_the_metrics_it_reads(text: str, metrics: set[str]) -> None:
    assert compile_condition(text, metrics=METRICS).metrics == metrics


def test_compiled_condition_keeps_its_source_and_is_reused_across_accounts() -> None:
    condition = compile_condition("seats >= limit.seats", metrics=METRICS)
    assert condition.source == "seats >= limit.seats"
    assert [condition.holds(_env({"seats": n})) for n in (1, 3, 4)] == [False, True, True]


def test_holds_never_raises_on_bad_input_and_logs_the_surprise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = _env({"seats": "many"})  # type: ignore[dict-item]  # not a number: a caller's bug
    condition = compile_condition("seats > 1", metrics=METRICS)
    with caplog.at_level(logging.ERROR, logger="app.engine.expressions"):
        assert condition.holds(env) is False
    assert "seats > 1" in caplog.text
