"""Not flapping, not nagging, through the real app and Redis: `for:` holds a trigger back
until its condition has held that long, `max_impressions` and `caps` count the prompts
reported `shown`, `mode: shadow` is counted and never returned; and the prompt path still
reads everything in one Redis command."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.conftest import NudgeFactory
from tests.support.api_calls import prompts, put_plan, report_shown, set_usage, show, triggers
from tests.support.clock import FakeClock
from tests.support.metrics_text import sample
from tests.support.redis_commands import command_calls, commands_between
from tests.support.redis_server import RedisServer
from tests.support.rule_sets import write_rules

# Two modals and two banners, on three metrics.
STYLED = """\
  - id: seats-full
    metric: seats
    threshold: 100%
    priority: 30
    prompt: {style: modal, title: "Your team is full"}
  - id: api-capped
    metric: api_calls
    threshold: 100%
    priority: 20
    prompt: {style: modal, title: "API limit reached"}
  - id: dashboards-high
    metric: dashboards
    threshold: 2
    priority: 10
    prompt: {style: banner, title: "Many dashboards"}
"""


# --- for: ------------------------------------------------------------------------------

HELD = """\
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    priority: 10
    prompt: {title: "Almost full"}
  - id: seats-full
    metric: seats
    threshold: 100%
    priority: 20
    for: 1h
    prompt: {style: modal, title: "Your team is full"}
"""


async def test_a_for_trigger_fires_only_an_hour_after_the_report_that_made_it_hold(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    write_rules(rules_dir, HELD)
    async with nudge_app() as client:
        await set_usage(client, seats=3)
        # Pending: it does not compete, so the lower threshold shows meanwhile.
        assert await triggers(client) == ["seats-almost-full"]
        clock.advance(minutes=30)
        await set_usage(client, seats=3)  # still holds: the hold is not restarted
        clock.advance(minutes=29, seconds=59)
        assert await triggers(client) == ["seats-almost-full"]
        clock.advance(seconds=1)
        assert await triggers(client) == ["seats-full"]
        clock.advance(days=2)
        assert await triggers(client) == ["seats-full"]


async def test_a_report_that_stops_the_hold_resets_it(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    write_rules(rules_dir, HELD)
    async with nudge_app() as client:
        await set_usage(client, seats=3)
        clock.advance(minutes=50)
        await set_usage(client, seats=2)
        assert await triggers(client) == []
        clock.advance(minutes=5)
        await set_usage(client, seats=3)
        clock.advance(minutes=30)  # 85 minutes since it first held, 30 since it holds again
        assert await triggers(client) == ["seats-almost-full"]
        clock.advance(minutes=30)
        assert await triggers(client) == ["seats-full"]


async def test_a_put_that_changes_the_plan_stops_and_restarts_the_hold(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    write_rules(rules_dir, HELD)
    async with nudge_app() as client:
        await put_plan(client, "free")
        await set_usage(client, seats=3)
        clock.advance(minutes=50)
        await put_plan(client, "team")  # 3 of 25 seats: it no longer holds
        clock.advance(minutes=5)
        await put_plan(client, "free")  # holds again, from now
        clock.advance(minutes=30)
        assert await triggers(client) == ["seats-almost-full"]
        clock.advance(minutes=30)
        assert await triggers(client) == ["seats-full"]


async def test_a_hold_broken_by_a_new_counter_window_starts_again(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    # The month's count starts again at zero at midnight: the condition stops holding then,
    # without any write. When the new month's usage makes it hold again, its hour starts
    # from that report, not from last month's.
    write_rules(
        rules_dir,
        """\
  - id: api-capped
    metric: api_calls
    threshold: 100%
    for: 1h
    prompt: {title: "API limit reached"}
""",
    )
    clock.now = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    async with nudge_app() as client:
        await set_usage(client, api_calls=100)
        clock.now = datetime(2027, 1, 1, 0, 10, tzinfo=UTC)
        assert await triggers(client) == []
        await set_usage(client, api_calls=100)
        clock.now = datetime(2027, 1, 1, 0, 40, tzinfo=UTC)  # held for 30 minutes
        assert await triggers(client) == []
        clock.now = datetime(2027, 1, 1, 1, 10, tzinfo=UTC)
        assert await triggers(client) == ["api-capped"]


# --- max_impressions -------------------------------------------------------------------

LIMITED = """\
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    max_impressions: {count: 2, per: 1d}
    prompt: {title: "Almost full"}
  - id: dashboards-high
    metric: dashboards
    threshold: 2
    prompt: {title: "Many dashboards"}
"""


async def test_max_impressions_hides_the_prompt_from_that_user_until_a_day_has_passed(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    write_rules(rules_dir, LIMITED)
    async with nudge_app() as client:
        await set_usage(client, seats=3, dashboards=2)
        first_shown = clock.now
        await show(client, clock, "seats-almost-full", "ana")
        assert await triggers(client, "ana") == ["dashboards-high", "seats-almost-full"]
        await show(client, clock, "seats-almost-full", "ana")

        assert await triggers(client, "ana") == ["dashboards-high"]
        assert await triggers(client, "bob") == ["dashboards-high", "seats-almost-full"]
        assert await triggers(client, None) == ["dashboards-high", "seats-almost-full"]

        clock.now = first_shown
        clock.advance(hours=23, minutes=59)
        assert await triggers(client, "ana") == ["dashboards-high"]
        clock.advance(minutes=1)  # the first of the two is a day old
        assert await triggers(client, "ana") == ["dashboards-high", "seats-almost-full"]


async def test_the_same_prompt_reported_shown_twice_counts_once(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    write_rules(rules_dir, LIMITED)
    async with nudge_app() as client:
        await set_usage(client, seats=3)
        [prompt] = await prompts(client, "ana")
        await report_shown(client, prompt)
        clock.advance(minutes=1)
        await report_shown(client, prompt)  # a retried report of the same prompt

        assert await triggers(client, "ana") == ["seats-almost-full"]
        await show(client, clock, "seats-almost-full", "ana")  # a second prompt, shown
        assert await triggers(client, "ana") == []


async def test_max_impressions_of_the_anonymous_user_are_its_own(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    write_rules(rules_dir, LIMITED)
    async with nudge_app() as client:
        await set_usage(client, seats=3)
        await show(client, clock, "seats-almost-full", None)
        await show(client, clock, "seats-almost-full", None)

        assert await triggers(client, None) == []
        assert await triggers(client, "ana") == ["seats-almost-full"]


# --- caps ------------------------------------------------------------------------------


async def test_a_modal_cap_per_user_keeps_one_modal_a_day(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    write_rules(rules_dir, STYLED, caps="caps:\n  modal: {count: 1, per: 1d}\n")
    async with nudge_app() as client:
        await set_usage(client, seats=3, api_calls=100, dashboards=2)
        # Two modals fire; the answer keeps the one of higher priority.
        assert await triggers(client, "ana") == ["seats-full", "dashboards-high"]

        shown_at = clock.now
        await show(client, clock, "seats-full", "ana")
        assert await triggers(client, "ana") == ["dashboards-high"]
        assert await triggers(client, "bob") == ["seats-full", "dashboards-high"]

        clock.now = shown_at
        clock.advance(hours=23, minutes=59)
        assert await triggers(client, "ana") == ["dashboards-high"]
        clock.advance(minutes=1)
        assert await triggers(client, "ana") == ["seats-full", "dashboards-high"]


async def test_an_any_cap_per_account_counts_every_users_prompts(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    write_rules(rules_dir, STYLED, caps="caps:\n  any: {count: 2, per: 1d, scope: account}\n")
    async with nudge_app() as client:
        await set_usage(client, seats=3, dashboards=2)
        await set_usage(client, "globex", seats=3, dashboards=2)
        await show(client, clock, "seats-full", "ana")
        assert await triggers(client, "carol") == ["seats-full"]  # one left for the account
        await show(client, clock, "seats-full", "bob")

        assert await triggers(client, "carol") == []
        assert await triggers(client, "ana") == []
        assert await triggers(client, None) == []
        assert await triggers(client, "carol", "globex") == ["seats-full", "dashboards-high"]


async def test_a_user_cap_and_an_account_cap_on_the_same_key(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    caps = """caps:
  any:
    - {count: 1, per: 1d}
    - {count: 3, per: 1d, scope: account}
"""
    write_rules(rules_dir, STYLED, caps=caps)
    async with nudge_app() as client:
        await set_usage(client, seats=3, dashboards=2)
        assert await triggers(client, "ana") == ["seats-full"]
        await show(client, clock, "seats-full", "ana")
        assert await triggers(client, "ana") == []  # ana's own cap
        await show(client, clock, "seats-full", "bob")
        await show(client, clock, "seats-full", "carol")

        assert await triggers(client, "dave") == []  # the account's cap


# --- shadow ----------------------------------------------------------------------------

SHADOWED = """\
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    priority: 10
    prompt: {title: "Almost full"}
  - id: seats-full-experiment
    metric: seats
    threshold: 100%
    priority: 20
    mode: shadow
    prompt: {style: modal, title: "Your team is full (experiment)"}
"""


async def test_a_shadow_trigger_is_never_returned_and_is_counted_in_metrics(
    nudge_app: NudgeFactory, rules_dir: Path
) -> None:
    write_rules(rules_dir, SHADOWED)
    async with nudge_app() as client:
        await set_usage(client, seats=2)
        assert await triggers(client) == []  # below both thresholds
        await set_usage(client, seats=3)
        for user in ("ana", "bob", None):
            # The live 80% trigger shows as if the experiment were not there.
            assert await triggers(client, user) == ["seats-almost-full"]
        text = (await client.get("/metrics")).text

    name = "nudge_prompts_shadowed_total"
    assert sample(text, name, trigger="seats-full-experiment") == 3
    assert sample(text, name, trigger="seats-almost-full") is None
    assert sample(text, "nudge_prompts_served_total", trigger="seats-almost-full") == 3
    assert sample(text, "nudge_prompts_served_total", trigger="seats-full-experiment") is None


# --- one round trip --------------------------------------------------------------------

EVERY_FEATURE = """\
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    priority: 10
    max_impressions: {count: 1, per: 7d}
    prompt: {title: "Almost full"}
  - id: seats-full
    metric: seats
    threshold: 100%
    priority: 20
    for: 1h
    signal: pql
    prompt: {style: modal, title: "Your team is full"}
  - id: api-capped
    metric: api_calls
    threshold: 100%
    priority: 15
    prompt: {style: modal, title: "API limit reached"}
  - id: dashboards-experiment
    metric: dashboards
    threshold: 2
    mode: shadow
    prompt: {title: "Many dashboards"}
  - id: power-user
    when: "dashboards >= 2 and seats >= 3"
    signal: pql
  - id: dashboards-high
    metric: dashboards
    threshold: 1
    prompt: {style: toast, title: "Dashboards"}
"""


async def test_the_prompt_path_is_one_redis_command_with_every_feature_on(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock, redis_server: RedisServer
) -> None:
    write_rules(rules_dir, EVERY_FEATURE, caps="caps:\n  modal: {count: 1, per: 1d}\n")
    async with nudge_app() as client:
        await set_usage(client, seats=3, api_calls=100, dashboards=2)
        await show(client, clock, "seats-almost-full", "ana")
        clock.advance(hours=1)
        await prompts(client, "ana")  # warm: the pool's connection exists
        stats = redis_server.client()
        before = command_calls(stats)

        answer = await prompts(client, "ana")

        after = command_calls(stats)

    # The answer used the pending mark (seats-full held an hour), the modal cap (api-capped
    # left out behind seats-full), the shadow trigger (not returned) and the impressions
    # (seats-almost-full is outranked anyway; dashboards-high is the toast left).
    assert [p["trigger"] for p in answer] == ["seats-full", "dashboards-high"]
    assert commands_between(before, after) == {"mget": 1}


async def test_impressions_are_read_in_the_one_command_too(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock, redis_server: RedisServer
) -> None:
    write_rules(rules_dir, LIMITED)
    async with nudge_app() as client:
        await set_usage(client, seats=3)
        await show(client, clock, "seats-almost-full", "ana")
        await show(client, clock, "seats-almost-full", "ana")
        await prompts(client, "bob")
        stats = redis_server.client()
        before = command_calls(stats)

        answer = await prompts(client, "ana")

        after = command_calls(stats)

    assert answer == []
    assert commands_between(before, after) == {"mget": 1}
