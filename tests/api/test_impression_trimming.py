"""Impression lists are trimmed to what caps and max_impressions can count: many prompts of
one style or trigger never push out an older impression another count still needs, and
a list stays small when the largest count is small."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from app.store.keys import IMPRESSIONS_KEPT_EACH
from tests.conftest import NudgeFactory
from tests.support.api_calls import put_plan, set_usage, show, triggers
from tests.support.clock import FakeClock
from tests.support.redis_server import RedisServer
from tests.support.rule_sets import write_rules

MODAL_AND_BANNER = """\
  - id: seats-full
    metric: seats
    threshold: 100%
    priority: 20
    prompt: {style: modal, title: "Your team is full"}
  - id: dashboards-high
    metric: dashboards
    threshold: 1
    priority: 10
    prompt: {style: banner, title: "Dashboards"}
"""
MODAL_A_WEEK = "caps:\n  modal: {count: 1, per: 7d, scope: account}\n"
TWO_BANNERS = """\
  - id: dashboards-high
    metric: dashboards
    threshold: 1
    priority: 20
    max_impressions: {count: 1, per: 7d}
    prompt: {style: banner, title: "Dashboards"}
  - id: api-used
    metric: api_calls
    threshold: 1
    priority: 10
    prompt: {style: banner, title: "API"}
"""
OTHER_PROMPTS = 60


@pytest.fixture
def raw(redis_url: str, redis_server: RedisServer) -> redis.Redis:
    return redis_server.client()


def stored(raw: redis.Redis, key: str) -> list[list[object]]:
    entries: list[list[object]] = json.loads(raw.get(key) or "[]")
    return entries


async def test_an_account_modal_cap_still_counts_its_modal_after_many_banners(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock, raw: redis.Redis
) -> None:
    write_rules(rules_dir, MODAL_AND_BANNER, caps=MODAL_A_WEEK)
    async with nudge_app() as client:
        await put_plan(client, "free")
        await set_usage(client, seats=3, dashboards=1)
        assert await triggers(client, "u0") == ["seats-full", "dashboards-high"]
        await show(client, clock, "seats-full", "u0")

        for n in range(OTHER_PROMPTS):
            await show(client, clock, "dashboards-high", f"other{n}")

        # The account's one modal a week was u0's: u1 gets none, days later too.
        assert await triggers(client, "u1") == ["dashboards-high"]
        clock.advance(days=6, hours=23)
        assert await triggers(client, "u1") == ["dashboards-high"]
        clock.advance(hours=1)
        assert await triggers(client, "u1") == ["seats-full", "dashboards-high"]

    entries = stored(raw, "nudge:{acme}:imp:account")
    assert [e[0] for e in entries].count("seats-full") == 1
    # The largest count is 1, so a list keeps the minimum of each style and trigger.
    assert [e[1] for e in entries].count("banner") == IMPRESSIONS_KEPT_EACH
    assert len(entries) == IMPRESSIONS_KEPT_EACH + 1 < OTHER_PROMPTS


async def test_many_prompts_of_one_trigger_keep_the_impression_another_trigger_counts(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock, raw: redis.Redis
) -> None:
    write_rules(rules_dir, TWO_BANNERS)
    async with nudge_app() as client:
        await set_usage(client, dashboards=1, api_calls=1)
        await show(client, clock, "dashboards-high", "ana")

        for _ in range(3 * IMPRESSIONS_KEPT_EACH):
            await show(client, clock, "api-used", "ana")

        # Same style, newer and many more: dashboards-high's one is still counted.
        assert await triggers(client, "ana") == ["api-used"]
        assert await triggers(client, "bob") == ["dashboards-high", "api-used"]

    entries = stored(raw, "nudge:{acme}:imp:u:ana")
    assert [e[0] for e in entries] == ["dashboards-high"] + ["api-used"] * IMPRESSIONS_KEPT_EACH


async def test_a_larger_count_keeps_as_many(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock, raw: redis.Redis
) -> None:
    count = IMPRESSIONS_KEPT_EACH + 5
    write_rules(
        rules_dir,
        TWO_BANNERS.replace("{count: 1, per: 7d}", f"{{count: {count}, per: 7d}}"),
    )
    async with nudge_app() as client:
        await set_usage(client, dashboards=1, api_calls=1)
        for _ in range(count - 1):
            await show(client, clock, "dashboards-high", "ana")
        for _ in range(2 * count):
            await show(client, clock, "api-used", "ana")

        assert "dashboards-high" in await triggers(client, "ana")  # shown count - 1 times
        await show(client, clock, "dashboards-high", "ana")
        assert await triggers(client, "ana") == ["api-used"]

    names = [e[0] for e in stored(raw, "nudge:{acme}:imp:u:ana")]
    assert names.count("dashboards-high") == count
    assert names.count("api-used") == count
