"""`evaluate`'s decisions on hand-built account states: `for:` (pending, then firing),
`max_impressions`, rule-set caps, shadow mode, signal-only triggers, and the reason a
product manager reads for every outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import pytest

from app.engine.model.decisions import Decision, holding_triggers
from app.engine.model.evaluation import evaluate
from app.engine.model.rule_set import RuleSet
from app.engine.model.state import AccountState, Impression
from tests.support.evaluation import NOW
from tests.support.rule_sets import PLANS, rules_from

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def state(
    usage: Mapping[str, float] | None = None,
    *,
    plan: str | None = None,
    pending: Mapping[str, datetime] | None = None,
    impressions: Sequence[Impression] = (),
    account_impressions: Sequence[Impression] = (),
    dismissed: Mapping[str, datetime] | None = None,
    attributes: Mapping[str, object] | None = None,
) -> AccountState:
    return AccountState(
        plan=plan,
        usage=usage or {},
        dismissed_at=dismissed or {},
        attributes=attributes or {},
        pending_since=pending or {},
        impressions=impressions,
        account_impressions=account_impressions,
    )


def decisions(
    rules: RuleSet, account: AccountState, *, placement: str | None = None, now: datetime = NOW
) -> dict[str, Decision]:
    evaluation = evaluate(rules, account, placement=placement, now=now)
    return {d.trigger.id: d for d in evaluation.decisions}


def outcomes(
    rules: RuleSet, account: AccountState, *, placement: str | None = None, now: datetime = NOW
) -> dict[str, str]:
    found = decisions(rules, account, placement=placement, now=now)
    return {trigger_id: d.outcome for trigger_id, d in found.items()}


def shown(
    rules: RuleSet, account: AccountState, *, placement: str | None = None, now: datetime = NOW
) -> list[str]:
    """What the user gets, rendered through `evaluate` (the prompt path's renderer)."""
    return [p.trigger for p in evaluate(rules, account, placement=placement, now=now).prompts]


def signals(rules: RuleSet, account: AccountState, *, now: datetime = NOW) -> list[str]:
    return [t.id for t in evaluate(rules, account, placement=None, now=now).signals]


def reason(
    rules: RuleSet, account: AccountState, trigger_id: str, *, placement: str | None = None
) -> str:
    return decisions(rules, account, placement=placement)[trigger_id].reason


def seen(trigger_id: str, ago: timedelta, style: str = "banner") -> Impression:
    """An impression of `trigger_id`'s prompt shown `ago` before NOW."""
    return Impression(trigger_id, style, NOW - ago)


def rules_with(triggers: str, *, caps: str = "") -> RuleSet:
    """PLANS (free: 3 seats, 100 api_calls; team: 25 seats, 10000 api_calls) plus these."""
    return rules_from(PLANS, caps + "triggers:\n" + triggers)


# --- for: pending, then firing ---------------------------------------------------------

HELD = rules_with(
    """
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    priority: 10
    prompt: {title: almost}
  - id: seats-full
    metric: seats
    threshold: 100%
    priority: 20
    for: 1h
    prompt: {title: full, style: modal}
"""
)


def test_a_for_trigger_without_a_pending_mark_is_pending() -> None:
    account = state({"seats": 3})

    found = decisions(HELD, account)["seats-full"]

    assert found.outcome == "pending"
    assert not found.fires
    assert found.since is None
    assert "pending: holds now" in found.reason
    assert "fires once it has held for 1h" in found.reason
    assert "seats-full" not in shown(HELD, account)


def test_a_for_trigger_with_a_recent_mark_is_pending_until_the_hold_is_over() -> None:
    account = state({"seats": 3}, pending={"seats-full": NOW - timedelta(minutes=30)})

    found = decisions(HELD, account)["seats-full"]

    assert found.outcome == "pending"
    assert (found.since, found.until) == (NOW - timedelta(minutes=30), NOW + timedelta(minutes=30))
    assert found.reason == (
        "pending since 2024-05-15 11:30 UTC: fires at 2024-05-15 12:30 UTC if it still "
        "holds (for: 1h)"
    )


@pytest.mark.parametrize(
    ("held_for", "fires"),
    [
        (timedelta(0), False),
        (timedelta(minutes=59, seconds=59), False),
        (HOUR, True),
        (timedelta(days=3), True),
    ],
)
def test_a_for_trigger_fires_once_it_has_held_that_long(held_for: timedelta, fires: bool) -> None:
    account = state({"seats": 3}, pending={"seats-full": NOW - held_for})

    assert shown(HELD, account) == (["seats-full"] if fires else ["seats-almost-full"])


def test_a_held_trigger_says_since_when_it_holds() -> None:
    account = state({"seats": 3}, pending={"seats-full": NOW - 2 * HOUR})

    assert reason(HELD, account, "seats-full") == (
        "shown: 3 of 3 seats = 100% >= 100%; held since 2024-05-15 10:00 UTC"
    )


def test_a_stale_pending_mark_does_not_fire_a_trigger_that_no_longer_holds() -> None:
    account = state({"seats": 2}, pending={"seats-full": NOW - DAY})

    assert outcomes(HELD, account)["seats-full"] == "below_threshold"
    assert shown(HELD, account) == []


def test_a_pending_trigger_does_not_compete_so_the_lower_threshold_shows_meanwhile() -> None:
    pending = state({"seats": 3}, pending={"seats-full": NOW - timedelta(minutes=10)})
    firing = state({"seats": 3}, pending={"seats-full": NOW - HOUR})

    assert outcomes(HELD, pending) == {"seats-full": "pending", "seats-almost-full": "shown"}
    assert outcomes(HELD, firing) == {"seats-full": "shown", "seats-almost-full": "outranked"}
    assert shown(HELD, firing) == ["seats-full"]


def test_holding_triggers_are_the_for_triggers_whose_threshold_and_condition_hold() -> None:
    rules = rules_with(
        """
  - id: seats-full
    metric: seats
    threshold: 100%
    for: 1h
    placements: [members]
    prompt: {title: full}
  - id: api-full
    metric: api_calls
    threshold: 100%
    for: 2h
    prompt: {title: api}
  - id: power-user
    when: "dashboards >= 2"
    for: 1d
    signal: pql
  - id: seats-now
    metric: seats
    threshold: 1
    prompt: {title: no for}
"""
    )

    # Placements and pending marks do not matter; a trigger without `for:` is not listed.
    assert holding_triggers(rules, state({"seats": 3, "api_calls": 10})) == {"seats-full"}
    assert holding_triggers(rules, state({"api_calls": 100, "dashboards": 2})) == {
        "api-full",
        "power-user",
    }
    assert holding_triggers(rules, state({"seats": 3}, plan="business")) == set()
    assert holding_triggers(rules, state({"seats": 3}, plan="gold")) == set()


def test_a_for_signal_waits_for_the_hold_before_it_signals() -> None:
    rules = rules_with(
        """
  - id: seats-pql
    metric: seats
    threshold: 100%
    for: 1h
    signal: pql
"""
    )

    assert signals(rules, state({"seats": 3})) == []
    assert signals(rules, state({"seats": 3}, pending={"seats-pql": NOW - HOUR / 2})) == []
    assert signals(rules, state({"seats": 3}, pending={"seats-pql": NOW - HOUR})) == ["seats-pql"]


# --- max_impressions ------------------------------------------------------------------

LIMITED = rules_with(
    """
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    max_impressions: {count: 2, per: 1d}
    signal: pql
    prompt: {title: almost}
  - id: api-high
    metric: api_calls
    threshold: 80%
    max_impressions: {count: 2, per: 1d}
    prompt: {title: api}
"""
)
AT_LIMITS = {"seats": 3, "api_calls": 100}


def test_max_impressions_hides_the_prompt_once_shown_that_often_within_the_span() -> None:
    once = state(AT_LIMITS, impressions=[seen("seats-almost-full", HOUR)])
    twice = state(
        AT_LIMITS,
        impressions=[seen("seats-almost-full", 3 * HOUR), seen("seats-almost-full", HOUR)],
    )

    assert shown(LIMITED, once) == ["api-high", "seats-almost-full"]
    assert shown(LIMITED, twice) == ["api-high"]
    found = decisions(LIMITED, twice)["seats-almost-full"]
    assert (found.outcome, found.shown) == ("max_impressions", 2)
    assert found.until == NOW - 3 * HOUR + DAY  # the oldest of the two leaves the span


def test_max_impressions_counts_only_impressions_within_the_span() -> None:
    account = state(
        AT_LIMITS,
        impressions=[seen("seats-almost-full", DAY), seen("seats-almost-full", HOUR)],
    )

    assert "seats-almost-full" in shown(LIMITED, account)


def test_max_impressions_shows_again_when_fewer_than_count_remain_in_the_span() -> None:
    # Shown three times; with at most 2 a day, it is free once the second oldest is a day old.
    history = [
        seen("seats-almost-full", 20 * HOUR),
        seen("seats-almost-full", 10 * HOUR),
        seen("seats-almost-full", HOUR),
    ]
    account = state(AT_LIMITS, impressions=history)

    found = decisions(LIMITED, account)["seats-almost-full"]
    assert (found.outcome, found.shown, found.until) == (
        "max_impressions",
        3,
        NOW - 10 * HOUR + DAY,
    )
    assert "seats-almost-full" in shown(LIMITED, account, now=NOW + 14 * HOUR)
    assert "seats-almost-full" not in shown(LIMITED, account, now=NOW + 14 * HOUR - 1 * HOUR)


def test_max_impressions_is_per_trigger() -> None:
    account = state(AT_LIMITS, impressions=[seen("api-high", 2 * HOUR), seen("api-high", HOUR)])

    assert shown(LIMITED, account) == ["seats-almost-full"]


def test_max_impressions_counts_this_users_impressions_not_the_accounts() -> None:
    others = [seen("seats-almost-full", HOUR)] * 5
    account = state(AT_LIMITS, account_impressions=others)

    assert shown(LIMITED, account) == ["api-high", "seats-almost-full"]


def test_a_prompt_held_back_by_max_impressions_does_not_bring_up_a_lower_threshold() -> None:
    rules = rules_with(
        """
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    prompt: {title: almost}
  - id: seats-full
    metric: seats
    threshold: 100%
    max_impressions: {count: 1, per: 1d}
    prompt: {title: full}
"""
    )
    account = state({"seats": 3}, impressions=[seen("seats-full", HOUR)])

    assert outcomes(rules, account) == {
        "seats-full": "max_impressions",
        "seats-almost-full": "outranked",
    }


def test_max_impressions_does_not_stop_the_signal_which_is_the_accounts() -> None:
    account = state(
        AT_LIMITS,
        impressions=[seen("seats-almost-full", 2 * HOUR), seen("seats-almost-full", HOUR)],
    )

    found = decisions(LIMITED, account)["seats-almost-full"]
    assert found.outcome == "max_impressions"
    assert found.fires
    assert signals(LIMITED, account) == ["seats-almost-full"]


# --- caps -----------------------------------------------------------------------------

STYLES = """
  - id: seats-full
    metric: seats
    threshold: 100%
    priority: 30
    prompt: {title: full, style: modal}
  - id: api-capped
    metric: api_calls
    threshold: 100%
    priority: 20
    prompt: {title: api, style: modal}
  - id: dashboards-gate
    metric: dashboards
    threshold: 1
    priority: 10
    prompt: {title: gate, style: banner}
  - id: exports-used
    metric: exports
    threshold: 1
    priority: 5
    prompt: {title: exports, style: toast}
"""
EVERYTHING = {"seats": 3, "api_calls": 100, "dashboards": 1, "exports": 1}


def test_a_style_cap_counts_the_users_impressions_of_that_style() -> None:
    rules = rules_with(STYLES, caps="caps:\n  modal: {count: 1, per: 1d}\n")
    after_a_modal = state(EVERYTHING, impressions=[seen("seats-full", HOUR, "modal")])
    after_a_banner = state(EVERYTHING, impressions=[seen("dashboards-gate", HOUR, "banner")])

    assert shown(rules, after_a_modal) == ["dashboards-gate", "exports-used"]
    assert outcomes(rules, after_a_modal)["seats-full"] == "capped"
    assert shown(rules, after_a_banner) == ["seats-full", "dashboards-gate", "exports-used"]


def test_a_cap_counts_only_impressions_within_its_span() -> None:
    rules = rules_with(STYLES, caps="caps:\n  modal: {count: 1, per: 1d}\n")
    account = state(EVERYTHING, impressions=[seen("api-capped", DAY, "modal")])

    assert shown(rules, account) == ["seats-full", "dashboards-gate", "exports-used"]


def test_the_prompts_of_one_answer_count_against_a_cap_keeping_the_higher_priority() -> None:
    rules = rules_with(STYLES, caps="caps:\n  modal: {count: 1, per: 1d}\n")
    account = state(EVERYTHING)

    assert shown(rules, account) == ["seats-full", "dashboards-gate", "exports-used"]
    found = decisions(rules, account)["api-capped"]
    assert found.outcome == "capped"
    assert found.cap is not None and found.cap.key == "modal"


def test_an_any_cap_counts_every_style_in_priority_order() -> None:
    rules = rules_with(STYLES, caps="caps:\n  any: {count: 3, per: 1d}\n")

    assert shown(rules, state(EVERYTHING)) == ["seats-full", "api-capped", "dashboards-gate"]
    one_shown = state(EVERYTHING, impressions=[seen("exports-used", HOUR, "toast")])
    assert shown(rules, one_shown) == ["seats-full", "api-capped"]
    assert outcomes(rules, one_shown) == {
        "seats-full": "shown",
        "api-capped": "shown",
        "dashboards-gate": "capped",
        "exports-used": "capped",
    }


def test_a_dismissed_prompt_takes_no_room_under_a_cap() -> None:
    rules = rules_with(STYLES, caps="caps:\n  modal: {count: 1, per: 1d}\n")
    account = state(EVERYTHING, dismissed={"seats-full": NOW - HOUR})

    assert shown(rules, account) == ["api-capped", "dashboards-gate", "exports-used"]


def test_a_user_cap_counts_this_user_and_an_account_cap_every_user() -> None:
    user_cap = rules_with(STYLES, caps="caps:\n  any: {count: 1, per: 1d}\n")
    account_cap = rules_with(STYLES, caps="caps:\n  any: {count: 1, per: 1d, scope: account}\n")
    by_others = state(EVERYTHING, account_impressions=[seen("exports-used", HOUR, "toast")])
    by_this_user = state(
        EVERYTHING,
        impressions=[seen("exports-used", HOUR, "toast")],
        account_impressions=[seen("exports-used", HOUR, "toast")],
    )

    assert shown(user_cap, by_others) == ["seats-full"]
    assert shown(user_cap, by_this_user) == []
    assert shown(account_cap, by_others) == []
    assert shown(account_cap, by_this_user) == []
    assert shown(account_cap, state(EVERYTHING)) == ["seats-full"]


def test_several_caps_on_one_key_each_apply() -> None:
    rules = rules_with(
        STYLES,
        caps="""caps:
  any:
    - {count: 3, per: 1d}
    - {count: 4, per: 1d, scope: account}
""",
    )
    # This user saw one prompt, other users three: the account cap leaves room for none.
    mine = [seen("exports-used", HOUR, "toast")]
    theirs = [seen("exports-used", HOUR, "toast")] * 3
    account = state(EVERYTHING, impressions=mine, account_impressions=mine + theirs)

    assert shown(rules, account) == []
    assert shown(rules, state(EVERYTHING, impressions=mine, account_impressions=mine)) == [
        "seats-full",
        "api-capped",
    ]


def test_a_style_cap_and_an_any_cap_together() -> None:
    rules = rules_with(
        STYLES, caps="caps:\n  modal: {count: 1, per: 1d}\n  any: {count: 2, per: 1d}\n"
    )

    assert shown(rules, state(EVERYTHING)) == ["seats-full", "dashboards-gate"]


def test_a_capped_prompt_still_fires_its_signal() -> None:
    rules = rules_with(
        """
  - id: seats-full
    metric: seats
    threshold: 100%
    signal: pql
    prompt: {title: full, style: modal}
""",
        caps="caps:\n  modal: {count: 1, per: 1d}\n",
    )
    account = state({"seats": 3}, impressions=[seen("other", HOUR, "modal")])

    assert outcomes(rules, account) == {"seats-full": "capped"}
    assert signals(rules, account) == ["seats-full"]


# --- shadow mode ----------------------------------------------------------------------

SHADOWED = rules_with(
    """
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    priority: 10
    prompt: {title: almost, style: modal}
  - id: seats-full-experiment
    metric: seats
    threshold: 100%
    priority: 50
    mode: shadow
    prompt: {title: full, style: modal}
""",
    caps="caps:\n  modal: {count: 1, per: 1d}\n",
)


def test_a_shadow_trigger_is_never_returned_and_ends_as_shadow() -> None:
    account = state({"seats": 3})

    assert shown(SHADOWED, account) == ["seats-almost-full"]
    found = decisions(SHADOWED, account)["seats-full-experiment"]
    assert found.outcome == "shadow"
    assert found.fires
    assert found.reason == (
        "shadow mode: would be shown (3 of 3 seats = 100% >= 100%), counted in metrics only"
    )


def test_a_shadow_trigger_takes_neither_a_live_triggers_metric_nor_its_cap() -> None:
    # Live, the 100% trigger would win seats and take the one modal; in shadow it does
    # neither, and the live 80% trigger shows as if it were not there.
    assert outcomes(SHADOWED, state({"seats": 3})) == {
        "seats-full-experiment": "shadow",
        "seats-almost-full": "shown",
    }


def test_a_shadow_trigger_that_would_lose_its_metric_is_not_counted() -> None:
    rules = rules_with(
        """
  - id: seats-full
    metric: seats
    threshold: 100%
    prompt: {title: full}
  - id: seats-almost-experiment
    metric: seats
    threshold: 80%
    mode: shadow
    prompt: {title: almost}
"""
    )

    found = decisions(rules, state({"seats": 3}))["seats-almost-experiment"]
    assert found.outcome == "outranked"
    assert found.reason.startswith("shadowed by seats-full, which also fires on seats")
    assert found.reason.endswith("(shadow mode)")


def test_a_shadow_trigger_goes_through_cooldown_impressions_and_caps_too() -> None:
    dismissed = state({"seats": 3}, dismissed={"seats-full-experiment": NOW - HOUR})
    capped = state({"seats": 3}, impressions=[seen("x", HOUR, "modal")])

    assert outcomes(SHADOWED, dismissed)["seats-full-experiment"] == "cooldown"
    found = decisions(SHADOWED, capped)["seats-full-experiment"]
    assert found.outcome == "capped"
    assert found.reason.endswith("(shadow mode)")


def test_a_shadow_trigger_never_signals() -> None:
    # (A shadow trigger without a prompt is a load error: it would do nothing.)
    rules = rules_with(
        """
  - id: seats-full-experiment
    metric: seats
    threshold: 100%
    mode: shadow
    signal: pql
    prompt: {title: full}
"""
    )
    account = state({"seats": 3})

    assert signals(rules, account) == []
    assert not any(d.signal for d in decisions(rules, account).values())
    assert shown(rules, account) == []


# --- signal-only triggers -------------------------------------------------------------

SIGNALLING = rules_with(
    """
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    priority: 10
    prompt: {title: almost}
  - id: seats-pql
    metric: seats
    threshold: 100%
    priority: 90
    signal: pql
  - id: seats-full
    metric: seats
    threshold: 100%
    placements: [members]
    signal: pql
    prompt: {title: full}
  - id: power-user
    when: "dashboards >= 2 and seats >= 3"
    signal: pql
"""
)


def test_a_signal_only_trigger_is_never_rendered_and_does_not_take_its_metric() -> None:
    account = state({"seats": 3, "dashboards": 2})

    # seats-pql has the highest threshold and priority on seats, yet seats-full wins it;
    # in another placement seats-full is filtered out and the 80% trigger shows.
    assert shown(SIGNALLING, account) == ["seats-full"]
    assert shown(SIGNALLING, account, placement="billing") == ["seats-almost-full"]
    assert outcomes(SIGNALLING, account)["seats-pql"] == "signal"
    assert outcomes(SIGNALLING, account)["power-user"] == "signal"


def test_the_prompt_paths_shortcut_leaves_out_signal_only_triggers_and_nothing_else() -> None:
    account = state({"seats": 3, "dashboards": 2})
    every = evaluate(SIGNALLING, account, placement=None, now=NOW).decisions
    prompting = evaluate(SIGNALLING, account, placement=None, now=NOW, prompts_only=True).decisions

    assert [d.trigger.id for d in prompting] == ["seats-almost-full", "seats-full"]
    kept = {d.trigger.id: d.outcome for d in every if d.trigger.prompt is not None}
    assert {d.trigger.id: d.outcome for d in prompting} == kept


def test_the_signals_are_the_signal_triggers_that_fire_whatever_the_placement() -> None:
    assert signals(SIGNALLING, state({"seats": 3, "dashboards": 2})) == [
        "seats-pql",
        "power-user",
        "seats-full",
    ]
    assert signals(SIGNALLING, state({"seats": 3})) == ["seats-pql", "seats-full"]
    assert signals(SIGNALLING, state({"seats": 2, "dashboards": 5})) == []


def test_a_prompt_trigger_with_a_signal_signals_even_where_its_prompt_is_held_back() -> None:
    dismissed = state({"seats": 3}, dismissed={"seats-full": NOW - HOUR})

    assert "seats-full" not in shown(SIGNALLING, dismissed)
    assert "seats-full" in signals(SIGNALLING, dismissed)


def test_signals_respect_the_plan_filter() -> None:
    rules = rules_with(
        """
  - id: team-seats-pql
    metric: seats
    threshold: 20
    plans: [team]
    signal: pql
"""
    )

    assert signals(rules, state({"seats": 20}, plan="team")) == ["team-seats-pql"]
    assert signals(rules, state({"seats": 20}, plan="free")) == []
    assert signals(rules, state({"seats": 20}, plan="gold")) == []


# --- reasons --------------------------------------------------------------------------

REASONS = rules_with(
    """
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    priority: 10
    placements: [members]
    prompt: {title: almost}
  - id: seats-full
    metric: seats
    threshold: 100%
    priority: 20
    prompt: {title: full}
  - id: team-only
    metric: seats
    threshold: 2
    plans: [team, business]
    prompt: {title: team}
  - id: exports-high
    metric: exports
    threshold: 80%
    prompt: {title: exports}
  - id: dashboards-high
    metric: dashboards
    threshold: 50%
    prompt: {title: dashboards}
  - id: power-user
    when: "dashboards >= 2"
    prompt: {title: power}
  - id: api-high
    metric: api_calls
    threshold: 80%
    cooldown: 1d
    prompt: {title: api}
"""
)


def test_below_threshold_reads_usage_of_limit_as_a_share() -> None:
    text = reason(REASONS, state({"seats": 2}), "seats-almost-full")

    assert text == "below threshold: 2 of 3 seats = 67% < 80%"


def test_below_threshold_just_under_reads_the_true_share_not_the_threshold() -> None:
    # 7999 of 10000 is 79.99%: saying "80% < 80%" contradicts itself.
    text = reason(REASONS, state({"api_calls": 7999}, plan="team"), "api-high")

    assert "80% < 80%" not in text
    assert text == "below threshold: 7999 of 10000 api_calls = 79.99% < 80%"


def test_an_absolute_threshold_reads_usage_against_the_level() -> None:
    assert reason(REASONS, state({"seats": 1}, plan="team"), "team-only") == (
        "below threshold: seats at 1 < 2"
    )


def test_shown_reads_usage_of_limit_as_a_share() -> None:
    assert reason(REASONS, state({"seats": 3}), "seats-full") == (
        "shown: 3 of 3 seats = 100% >= 100%"
    )


@pytest.mark.parametrize(
    ("trigger_id", "account", "placement", "expected"),
    [
        (
            "seats-full",
            state({"seats": 3}, plan="gold"),
            None,
            'the account\'s plan "gold" is not in the rules',
        ),
        (
            "team-only",
            state({"seats": 3}),
            None,
            "not for plan free: the trigger is only for business, team",
        ),
        (
            "seats-full",
            state({"seats": 300}, plan="business"),
            None,
            "plan business has no upgrade_to, and the trigger lists no plans",
        ),
        (
            "exports-high",
            state({"exports": 50}),
            None,
            "plan free has no limit on exports, so a percentage threshold cannot fire",
        ),
        (
            "dashboards-high",
            state({"dashboards": 5}),
            None,
            "plan free's limit on dashboards is 0, so a percentage threshold cannot fire",
        ),
        ("power-user", state({"dashboards": 1}), None, "condition is false: dashboards >= 2"),
        (
            "seats-almost-full",
            state({"seats": 2.5}),
            "billing",
            "placement mismatch: shows in members, not in billing",
        ),
        (
            "seats-almost-full",
            state({"seats": 3}),
            None,
            "shadowed by seats-full, which also fires on seats",
        ),
        (
            "api-high",
            state({"api_calls": 90}, dismissed={"api-high": NOW - HOUR}),
            None,
            "cooldown until 2024-05-16 11:00 UTC: dismissed at 2024-05-15 11:00 UTC (cooldown 1d)",
        ),
    ],
    ids=[
        "unknown_plan",
        "not_for_plan",
        "no_upgrade",
        "no_limit",
        "limit_zero",
        "condition_false",
        "placement",
        "outranked",
        "cooldown",
    ],
)
def test_each_outcome_reads_right(
    trigger_id: str, account: AccountState, placement: str | None, expected: str
) -> None:
    assert expected in reason(REASONS, account, trigger_id, placement=placement)


def test_max_impressions_reads_how_often_in_what_span_and_when_it_shows_again() -> None:
    account = state(
        AT_LIMITS,
        impressions=[seen("seats-almost-full", 3 * HOUR), seen("seats-almost-full", HOUR)],
    )

    assert reason(LIMITED, account, "seats-almost-full") == (
        "max impressions: shown 2 times in the last 1d (at most 2); shows again after "
        "2024-05-16 09:00 UTC"
    )


def test_capped_by_earlier_impressions_reads_the_cap_and_the_count() -> None:
    rules = rules_with(STYLES, caps="caps:\n  any: {count: 2, per: 1d, scope: account}\n")
    account = state(
        EVERYTHING,
        account_impressions=[seen("x", HOUR, "toast"), seen("y", 2 * HOUR, "banner")],
    )

    text = reason(rules, account, "seats-full")
    assert text.startswith("capped by any: 2 per 1d per account")
    assert "2 shown in the last 1d" in text
    assert "this answer" not in text


def test_capped_by_this_answer_does_not_claim_earlier_impressions() -> None:
    # Nothing was shown before: the cap is full because seats-full, of higher priority, is
    # in this very answer. The reason must not say a modal was shown already.
    rules = rules_with(STYLES, caps="caps:\n  modal: {count: 1, per: 1d}\n")

    text = reason(rules, state(EVERYTHING), "api-capped")

    assert text.startswith("capped by modal: 1 per 1d per user")
    assert "0 shown in the last 1d" in text
    assert "this answer already has seats-full" in text


def test_outranked_by_a_winner_held_back_says_nothing_about_the_metric_shows() -> None:
    account = state({"seats": 3}, dismissed={"seats-full": NOW - HOUR})

    text = reason(REASONS, account, "seats-almost-full")

    assert text.startswith("shadowed by seats-full, which also fires on seats")
    assert "seats-full is held back for this user (cooldown)" in text
    assert "nothing about seats shows" in text


def test_signal_and_pending_and_shadow_reasons() -> None:
    assert reason(SIGNALLING, state({"seats": 3}), "seats-pql") == (
        "fires: records a pql signal (3 of 3 seats = 100% >= 100%)"
    )
    assert reason(SIGNALLING, state({"seats": 3, "dashboards": 2}), "power-user") == (
        "fires: records a pql signal (condition holds: dashboards >= 2 and seats >= 3)"
    )
    shadow_pending = rules_with(
        """
  - id: seats-experiment
    metric: seats
    threshold: 100%
    for: 2h
    mode: shadow
    prompt: {title: x}
"""
    )
    text = reason(
        shadow_pending, state({"seats": 3}, pending={"seats-experiment": NOW}), "seats-experiment"
    )
    assert text == (
        "pending since 2024-05-15 12:00 UTC: fires at 2024-05-15 14:00 UTC if it still "
        "holds (for: 2h) (shadow mode)"
    )
