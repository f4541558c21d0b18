"""Dismissed prompts stay hidden for their cooldown; the clock is passed in, never read."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.evaluation import NOW, shown
from tests.support.rule_sets import trigger, with_triggers

RULES = with_triggers(
    trigger("seats-almost-full", threshold="80%", extra="cooldown: 3d")
    + trigger("seats-full", extra="priority: 20")  # default cooldown
    + trigger("api-capped", metric="api_calls", extra="cooldown: 30m")
)


@pytest.mark.parametrize(
    ("dismissed_ago", "hidden"),
    [
        (timedelta(0), True),
        (timedelta(days=2, hours=23, minutes=59), True),
        (timedelta(days=3), False),
        (timedelta(weeks=1), False),
    ],
)
def test_dismissed_prompt_stays_hidden_for_its_cooldown(
    dismissed_ago: timedelta, hidden: bool
) -> None:
    dismissed = {"seats-almost-full": NOW - dismissed_ago}
    visible = shown(RULES, usage={"seats": 2.5}, dismissed=dismissed, now=NOW)
    assert visible == ([] if hidden else ["seats-almost-full"])


@pytest.mark.parametrize(
    ("dismissed_ago", "hidden"),
    [(timedelta(hours=23, minutes=59), True), (timedelta(days=1), False)],
)
def test_default_cooldown_is_one_day(dismissed_ago: timedelta, hidden: bool) -> None:
    dismissed = {"seats-full": NOW - dismissed_ago}
    visible = shown(RULES, usage={"seats": 3}, dismissed=dismissed, now=NOW)
    assert visible == ([] if hidden else ["seats-full"])


def test_cooldown_in_minutes_ends_after_those_minutes() -> None:
    dismissed = {"api-capped": NOW}
    usage = {"api_calls": 100}
    assert shown(RULES, usage=usage, dismissed=dismissed, now=NOW + timedelta(minutes=29)) == []
    later = NOW + timedelta(minutes=30)
    assert shown(RULES, usage=usage, dismissed=dismissed, now=later) == ["api-capped"]


def test_dismissing_the_winner_does_not_bring_up_a_lower_threshold() -> None:
    dismissed = {"seats-full": NOW - timedelta(hours=1)}
    assert shown(RULES, usage={"seats": 3}, dismissed=dismissed) == []


def test_dismissing_a_lower_threshold_does_not_hide_the_higher_one() -> None:
    dismissed = {"seats-almost-full": NOW - timedelta(hours=1)}
    assert shown(RULES, usage={"seats": 3}, dismissed=dismissed) == ["seats-full"]


def test_dismissing_one_metric_leaves_the_others_shown() -> None:
    dismissed = {"seats-full": NOW - timedelta(hours=1)}
    usage = {"seats": 3, "api_calls": 100}
    assert shown(RULES, usage=usage, dismissed=dismissed) == ["api-capped"]
