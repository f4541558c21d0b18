"""Which triggers fire for an account, which one wins per metric, and in which order."""

from __future__ import annotations

import pytest

from tests.support.evaluation import prompts, shown
from tests.support.rule_sets import SPEC_CORE, rules_from, trigger, with_triggers

SEATS_80 = trigger("seats-almost-full", threshold="80%", extra="priority: 10")
SEATS_100 = trigger("seats-full", threshold="100%", extra="priority: 20")


@pytest.mark.parametrize(("seats", "fires"), [(0, False), (2, False), (3, True), (7, True)])
def test_percent_threshold_fires_at_that_share_of_the_plan_limit(seats: int, fires: bool) -> None:
    rules = with_triggers(SEATS_80)  # 80% of free's 3 seats is 2.4
    assert shown(rules, usage={"seats": seats}) == (["seats-almost-full"] if fires else [])


@pytest.mark.parametrize(("calls", "fires"), [(79, False), (79.9, False), (80, True)])
def test_percent_threshold_fires_exactly_at_its_level(calls: float, fires: bool) -> None:
    rules = with_triggers(trigger("api-high", metric="api_calls", threshold="80%"))
    assert shown(rules, usage={"api_calls": calls}) == (["api-high"] if fires else [])


def test_percent_threshold_never_fires_where_the_plan_has_no_limit() -> None:
    rules = with_triggers(trigger("exports-full", metric="exports", threshold="100%"))
    assert shown(rules, usage={"exports": 1_000_000}) == []


@pytest.mark.parametrize("threshold", ["0%", "100%"])
def test_percent_threshold_never_fires_where_the_plan_limit_is_zero(threshold: str) -> None:
    rules = with_triggers(trigger("dashboards-gate", metric="dashboards", threshold=threshold))
    assert shown(rules, usage={"dashboards": 5}) == []


@pytest.mark.parametrize(
    ("metric", "usage", "fires"),
    [
        ("dashboards", 1, True),  # limit 0
        ("exports", 1, True),  # no limit
        ("exports", 0, False),
        ("seats", 1, True),  # limit 3: an absolute level is not a share of it
    ],
)
def test_absolute_threshold_fires_whatever_the_limit(metric: str, usage: int, fires: bool) -> None:
    rules = with_triggers(trigger("gate", metric=metric, threshold="1"))
    assert shown(rules, usage={metric: usage}) == (["gate"] if fires else [])


def test_trigger_fires_only_for_plans_with_an_upgrade() -> None:
    rules = with_triggers(trigger("seats-over", threshold="10"))
    assert shown(rules, usage={"seats": 10}, plan="team") == ["seats-over"]
    assert shown(rules, usage={"seats": 10}, plan="business") == []


def test_trigger_listing_plans_fires_only_for_those_plans() -> None:
    rules = with_triggers(trigger("seats-over", threshold="10", extra="plans: [business]"))
    assert shown(rules, usage={"seats": 10}, plan="business") == ["seats-over"]
    assert shown(rules, usage={"seats": 10}, plan="free") == []


def test_full_team_sees_only_the_highest_threshold() -> None:
    rules = with_triggers(SEATS_80 + SEATS_100)
    assert shown(rules, usage={"seats": 2}, plan="team") == []
    assert shown(rules, usage={"seats": 20}, plan="team") == ["seats-almost-full"]
    assert shown(rules, usage={"seats": 25}, plan="team") == ["seats-full"]


def test_highest_level_wins_across_absolute_and_percent_thresholds() -> None:
    rules = with_triggers(
        trigger("seats-full", threshold="100%", extra="priority: 50")
        + trigger("seats-ten", threshold="10")
    )
    assert shown(rules, usage={"seats": 9}) == ["seats-full"]
    assert shown(rules, usage={"seats": 10}) == ["seats-ten"]


def test_equal_levels_go_to_the_higher_priority() -> None:
    rules = with_triggers(
        trigger("a-low", extra="priority: 5") + trigger("b-high", extra="priority: 9")
    )
    assert shown(rules, usage={"seats": 3}) == ["b-high"]


def test_equal_levels_and_priorities_go_to_the_smaller_id() -> None:
    rules = with_triggers(trigger("seats-b") + trigger("seats-a") + trigger("seats-ab"))
    assert shown(rules, usage={"seats": 3}) == ["seats-a"]


def test_equal_levels_compare_a_percentage_with_the_same_absolute_number() -> None:
    rules = with_triggers(trigger("b-three", threshold="3") + trigger("a-full", threshold="100%"))
    assert shown(rules, usage={"seats": 3}) == ["a-full"]


def test_prompts_are_ordered_by_priority_then_id() -> None:
    rules = with_triggers(
        trigger("seats-full", extra="priority: 10")
        + trigger("api-capped", metric="api_calls", extra="priority: 30")
        + trigger("exports-used", metric="exports", threshold="1", extra="priority: 10")
        + trigger("dashboards-tried", metric="dashboards", threshold="1")
    )
    usage = {"seats": 3, "api_calls": 100, "exports": 1, "dashboards": 1}
    assert shown(rules, usage=usage) == [
        "api-capped",
        "exports-used",
        "seats-full",
        "dashboards-tried",
    ]


PLACED = with_triggers(
    trigger("seats-full", extra="placements: [members, global]")
    + trigger("api-capped", metric="api_calls")
)
FULL = {"seats": 3, "api_calls": 100}


def test_request_without_placement_gets_every_prompt() -> None:
    assert shown(PLACED, usage=FULL) == ["api-capped", "seats-full"]


def test_request_with_a_listed_placement_gets_those_listing_it_and_those_without() -> None:
    assert shown(PLACED, usage=FULL, placement="members") == ["api-capped", "seats-full"]


def test_request_with_another_placement_gets_only_those_without_placements() -> None:
    assert shown(PLACED, usage=FULL, placement="billing") == ["api-capped"]


def test_placement_filter_applies_before_the_choice_per_metric() -> None:
    rules = with_triggers(
        trigger("seats-almost-full", threshold="80%")
        + trigger("seats-full", extra="placements: [members]")
    )
    assert shown(rules, usage={"seats": 3}, placement="members") == ["seats-full"]
    assert shown(rules, usage={"seats": 3}, placement="billing") == ["seats-almost-full"]


def test_plan_filter_applies_before_the_choice_per_metric() -> None:
    rules = with_triggers(
        trigger("seats-almost-full", threshold="80%") + trigger("seats-full", extra="plans: [team]")
    )
    assert shown(rules, usage={"seats": 3}) == ["seats-almost-full"]


def test_account_never_put_has_the_default_plan() -> None:
    rules = with_triggers(SEATS_100)
    [prompt] = prompts(rules, usage={"seats": 3}, plan=None)
    assert (prompt.plan, prompt.limit, prompt.upgrade_plan) == ("free", 3, "team")


def test_account_plan_decides_the_limit() -> None:
    rules = with_triggers(SEATS_100)
    assert shown(rules, usage={"seats": 3}, plan="team") == []
    assert shown(rules, usage={"seats": 25}, plan="team") == ["seats-full"]


def test_account_on_a_plan_no_longer_in_the_rules_gets_no_prompts() -> None:
    rules = with_triggers(trigger("seats-over", threshold="1"))
    assert shown(rules, usage={"seats": 1000}, plan="legacy") == []


def test_metric_without_usage_counts_as_zero() -> None:
    rules = with_triggers(SEATS_80 + trigger("any-seats", threshold="0"))
    assert shown(rules, usage={}) == ["any-seats"]


def test_counter_is_compared_with_the_usage_it_is_given() -> None:
    rules = with_triggers(trigger("api-capped", metric="api_calls"))
    assert shown(rules, usage={"api_calls": 99}) == []
    assert shown(rules, usage={"api_calls": 100}) == ["api-capped"]


def test_rendered_prompt_carries_the_numbers_that_explain_it() -> None:
    rules = rules_from(SPEC_CORE)
    [full] = prompts(rules, usage={"seats": 3})
    assert full.trigger == "seats-full"
    assert full.metric == "seats"
    assert (full.usage, full.limit, full.plan, full.upgrade_plan) == (3, 3, "free", "team")
    assert full.style == "modal"
    assert full.title == "Your team is full"
    assert full.body == "free includes 3 seats. Upgrade to team to invite more people."
    assert (full.cta_label, full.cta_url) == ("Upgrade", "/billing/upgrade?plan=team")
