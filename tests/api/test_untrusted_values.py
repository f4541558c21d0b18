"""Values Nudge did not write (a hand edit, a bad restore, another program) never make the
prompt path answer 500. Bookkeeping Nudge can rebuild (pending marks, impression lists)
counts as absent and the next write replaces it; what prompts are made of (the plan
mirror, usage) answers degraded, since Nudge cannot vouch for any prompt then."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import NudgeFactory
from tests.support.api_calls import prompts, put_plan, set_usage, show, triggers
from tests.support.clock import FakeClock
from tests.support.redis_server import RedisServer
from tests.support.rule_sets import write_rules

RULES = """\
  - id: seats-full
    metric: seats
    threshold: 100%
    priority: 20
    for: 1h
    prompt: {style: modal, title: "Your team is full"}
  - id: dashboards-high
    metric: dashboards
    threshold: 2
    priority: 10
    max_impressions: {count: 1, per: 7d}
    prompt: {style: banner, title: "Many dashboards"}
"""
PARAMS = {"account_id": "acme", "user_id": "ana"}
DEGRADED = {"prompts": [], "degraded": True}
MARK = "nudge:{acme}:pending:seats-full"
ANA_IMPRESSIONS = "nudge:{acme}:imp:u:ana"
ACCOUNT_IMPRESSIONS = "nudge:{acme}:imp:account"
MIRROR = "nudge:{acme}:account"
SEATS = "nudge:{acme}:g:seats"


def ms(clock: FakeClock, **ago: float) -> int:
    """The clock's time (less `ago`) in milliseconds, as Nudge writes times."""
    return int((clock.now - timedelta(**ago)).timestamp() * 1000)


def fingerprint(client: httpx.AsyncClient) -> str:
    rules = client.app.state.runtime.rules.live.rules  # type: ignore[attr-defined]
    found: str = rules.by_id["seats-full"].hold_fingerprint
    assert found
    return found


@pytest.fixture
def raw(redis_url: str, redis_server: RedisServer) -> redis.Redis:
    return redis_server.client()


def text(raw: redis.Redis, key: str) -> str | None:
    """A key's value as the suite's client decodes it (a str), None where missing."""
    found = raw.get(key)
    assert found is None or isinstance(found, str)
    return found


@pytest.fixture
async def ana_sees_seats_full(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    """acme full for two hours (seats-full held past its hour); ana was shown
    dashboards-high, so its max_impressions hides it from her."""
    write_rules(rules_dir, RULES)
    async with nudge_app() as client:
        await put_plan(client, "free")
        await set_usage(client, seats=3, dashboards=2)
        await show(client, clock, "dashboards-high", "ana")
        clock.advance(hours=2)
        assert await triggers(client, "ana") == ["seats-full"]
        assert await triggers(client, "bob") == ["seats-full", "dashboards-high"]
        yield client


async def answer(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/v1/prompts", params=PARAMS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- 1. the prompt path never answers 500 ----------------------------------------------

# "{fp}" is the trigger's hold fingerprint, "{ms}" the time the mark was really made:
# values that get past the fingerprint check reach the number parsing.
BAD_MARKS = [
    "1e30",
    "-1e20",
    "inf",
    "garbage",
    "",
    "1e30::{fp}",
    "-1e20::{fp}",
    "inf::{fp}",
    "nan::{fp}",
    "garbage::{fp}",
    "-5::{fp}",
    "{ms}:1e30:{fp}",
    "{ms}:inf:{fp}",
    "{ms}:garbage:{fp}",
]
FAR_FUTURE = '[["x","banner",1e300,"d"]]'
BAD_IMPRESSION_LISTS = [
    FAR_FUTURE,
    '[["dashboards-high","banner",-1e300,"d"]]',
    "[" * 5000,
    "not json",
    "null",
    '"a string"',
    '{"dashboards-high": 1}',
    '[[1,2,3,4],"x",{"a":1},["dashboards-high","banner","soon","d"],["dashboards-high"]]',
]


@pytest.mark.parametrize("value", BAD_MARKS)
async def test_a_pending_mark_nudge_did_not_write_counts_as_absent(
    ana_sees_seats_full: httpx.AsyncClient, raw: redis.Redis, clock: FakeClock, value: str
) -> None:
    client = ana_sees_seats_full
    raw.set(MARK, value.format(fp=fingerprint(client), ms=ms(clock, hours=2)))

    with_garbage = await answer(client)
    raw.delete(MARK)
    absent = await answer(client)

    assert with_garbage == absent
    assert absent["degraded"] is False
    assert absent["prompts"] == []  # seats-full no longer held; ana saw dashboards-high


@pytest.mark.parametrize("value", BAD_IMPRESSION_LISTS)
async def test_an_impression_list_nudge_did_not_write_counts_as_absent(
    ana_sees_seats_full: httpx.AsyncClient, raw: redis.Redis, value: str
) -> None:
    client = ana_sees_seats_full
    raw.set(ANA_IMPRESSIONS, value)

    with_garbage = await answer(client)
    raw.delete(ANA_IMPRESSIONS)
    absent = await answer(client)

    assert with_garbage == absent
    assert absent["degraded"] is False
    assert [p["trigger"] for p in absent["prompts"]] == ["seats-full", "dashboards-high"]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (MIRROR, '{"plan":["free"]}'),
        (MIRROR, '{"plan":"free","attributes":[1,2]}'),
        (MIRROR, '["free"]'),
        (MIRROR, "not json"),
        (MIRROR, "[" * 5000),
        (SEATS, "inf"),
        (SEATS, "-inf"),
        (SEATS, "nan"),
        (SEATS, "1e400"),
        (SEATS, "three"),
    ],
)
async def test_a_mirror_or_usage_value_nudge_did_not_write_answers_degraded(
    ana_sees_seats_full: httpx.AsyncClient, raw: redis.Redis, key: str, value: str
) -> None:
    client = ana_sees_seats_full
    good = text(raw, key)
    raw.set(key, value)

    assert await answer(client) == DEGRADED

    assert good is not None
    raw.set(key, good)
    assert [p["trigger"] for p in (await answer(client))["prompts"]] == ["seats-full"]


# --- 3. the next write replaces such bookkeeping ---------------------------------------


@pytest.mark.parametrize("value", ["garbage", "1e30::{fp}", "{ms}:garbage:{fp}", "-5::{fp}"])
async def test_the_next_usage_report_replaces_a_bad_pending_mark_and_the_hold_starts_then(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock, raw: redis.Redis, value: str
) -> None:
    write_rules(rules_dir, RULES)
    async with nudge_app() as client:
        await set_usage(client, seats=3)
        raw.set(MARK, value.format(fp=fingerprint(client), ms=ms(clock)))
        clock.advance(minutes=30)

        await set_usage(client, seats=3)

        restarted = clock.now
        mark = text(raw, MARK)
        assert mark is not None and mark.startswith(f"{ms(clock)}:"), mark
        assert mark.endswith(f":{fingerprint(client)}")
        clock.advance(minutes=59, seconds=59)
        assert await triggers(client) == []
        clock.now = restarted + timedelta(hours=1)
        assert await triggers(client) == ["seats-full"]


@pytest.mark.parametrize("key", [ANA_IMPRESSIONS, ACCOUNT_IMPRESSIONS])
@pytest.mark.parametrize("value", BAD_IMPRESSION_LISTS)
async def test_a_bad_impression_list_does_not_fail_shown_and_is_replaced(
    nudge_app: NudgeFactory,
    rules_dir: Path,
    clock: FakeClock,
    raw: redis.Redis,
    key: str,
    value: str,
) -> None:
    write_rules(rules_dir, RULES)
    async with nudge_app() as client:
        await set_usage(client, dashboards=2)
        [prompt] = await prompts(client, "ana")
        raw.set(key, value)

        shown = await client.post(f"/v1/prompts/{prompt['id']}/events", json={"type": "shown"})

        assert shown.status_code == 202, shown.text
        entries = json.loads(text(raw, key) or "")
        assert isinstance(entries, list)
        assert [entry[:3] for entry in entries if entry[0] == "dashboards-high"] == [
            ["dashboards-high", "banner", ms(clock)]
        ]
        # What the script cannot tell from its own entries is dropped. A well-formed entry
        # dated past the year 9999 stays (the prompt path skips it when it reads the list).
        leftover = [entry for entry in entries if entry[0] != "dashboards-high"]
        assert leftover == ([["x", "banner", 1e300, "d"]] if value == FAR_FUTURE else [])
        clock.advance(seconds=1)
        # The new list counts: max_impressions (1 a week) hides the prompt from ana now.
        assert await triggers(client, "ana") == []
        assert await triggers(client, "bob") == ["dashboards-high"]
