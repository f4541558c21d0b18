"""Signals from the write paths to the API, on SQLite and (with TEST_DATABASE_URL) PostgreSQL:
a trigger with `signal: pql` that fires on POST /v1/usage or PUT /v1/accounts records one
signal per account per cooldown, listed by GET /v1/signals and the account's `signals`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.services.prompt_ids import PromptIdCodec, PromptRef
from app.store import database
from tests.conftest import SIGNING_SECRET, NudgeFactory
from tests.support.api_calls import fired, put_plan, set_usage, signals
from tests.support.clock import T0, FakeClock
from tests.support.rule_sets import write_rules

SIGNALLING = """\
  - id: seats-pql
    metric: seats
    threshold: 100%
    signal: pql
    cooldown: 1d
  - id: api-capped
    metric: api_calls
    threshold: 100%
    signal: pql
    cooldown: 12h
    prompt: {style: modal, title: "API limit reached"}
  - id: power-user-experiment
    when: "dashboards >= 2"
    mode: shadow
    signal: pql
    prompt: {title: "You are a power user"}
  - id: dashboards-used
    metric: dashboards
    threshold: 1
    prompt: {title: "Dashboards"}
"""
HELD = """\
  - id: seats-pql
    metric: seats
    threshold: 100%
    for: 1h
    signal: pql
"""


@pytest.fixture
def app_on(
    nudge_app: NudgeFactory, any_database_url: str, rules_dir: Path, clock: FakeClock
) -> Any:
    """`async with app_on(rules) as client:` the app on these rules, SQLite or PostgreSQL."""
    engine = database.create_database_engine(any_database_url)
    try:
        database.upgrade(engine)
    finally:
        engine.dispose()
    clock.now = T0

    def start(triggers: str) -> Any:
        write_rules(rules_dir, triggers)
        return nudge_app(database_url=any_database_url)

    return start


@pytest.fixture
async def api(app_on: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with app_on(SIGNALLING) as client:
        yield client


async def account_signals(client: httpx.AsyncClient, account: str = "acme") -> list[Any]:
    answer = await client.get(f"/v1/accounts/{account}")
    assert answer.status_code == 200, answer.text
    found: list[Any] = answer.json()["signals"]
    return found


async def prompt_triggers(client: httpx.AsyncClient, account: str = "acme") -> list[str]:
    answer = await client.get("/v1/prompts", params={"account_id": account, "user_id": "ana"})
    assert answer.status_code == 200, answer.text
    return [p["trigger"] for p in answer.json()["prompts"]]


async def test_usage_that_crosses_a_signal_trigger_records_one_signal_that_explains_it(
    api: httpx.AsyncClient,
) -> None:
    await set_usage(api, seats=2, dashboards=1)
    assert await signals(api) == []

    await set_usage(api, seats=3)

    [signal] = await signals(api)
    assert uuid.UUID(signal["id"])
    assert {key: value for key, value in signal.items() if key != "id"} == {
        "type": "pql",
        "account_id": "acme",
        "trigger": "seats-pql",
        "plan": "free",
        "usage": {"seats": 3, "dashboards": 1, "api_calls": signal["usage"]["api_calls"]},
        "fired_at": "2026-12-02T09:00:00Z",
        "delivery": {"state": "pending", "attempts": 0, "delivered_at": None},
    }
    assert signal["usage"]["api_calls"] in (0, None)  # never reported this month
    assert await account_signals(api) == [signal]
    assert await account_signals(api, "globex") == []


async def test_a_signal_only_trigger_never_shows_a_prompt(api: httpx.AsyncClient) -> None:
    await set_usage(api, seats=3, dashboards=1)

    assert await prompt_triggers(api) == ["dashboards-used"]
    assert [s["trigger"] for s in await signals(api)] == ["seats-pql"]


async def test_more_usage_within_the_cooldown_records_no_second_signal(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    await set_usage(api, seats=3)
    clock.advance(hours=23, minutes=59)
    await set_usage(api, seats=4)
    await set_usage(api, seats=2)
    await set_usage(api, seats=3)  # crosses again, within the day

    assert await fired(api) == [("acme", "seats-pql", "2026-12-02T09:00:00Z")]


async def test_after_the_cooldown_a_new_usage_report_records_a_second_signal(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    await set_usage(api, seats=3)
    clock.advance(days=1)
    assert len(await signals(api)) == 1  # nothing is recorded without a write

    await set_usage(api, seats=3)

    assert await fired(api) == [
        ("acme", "seats-pql", "2026-12-02T09:00:00Z"),
        ("acme", "seats-pql", "2026-12-03T09:00:00Z"),
    ]
    assert [s["fired_at"] for s in await account_signals(api)] == [  # the latest first
        "2026-12-03T09:00:00Z",
        "2026-12-02T09:00:00Z",
    ]


async def test_signals_are_per_account_and_per_trigger(api: httpx.AsyncClient) -> None:
    await set_usage(api, "acme", seats=3)
    await set_usage(api, "globex", seats=3)
    await set_usage(api, "acme", api_calls=100)

    assert sorted((a, t) for a, t, _ in await fired(api)) == [
        ("acme", "api-capped"),
        ("acme", "seats-pql"),
        ("globex", "seats-pql"),
    ]


async def test_a_trigger_with_a_prompt_and_a_signal_shows_and_signals(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    await set_usage(api, api_calls=60)
    clock.advance(minutes=5)
    await set_usage(api, api_calls=40)

    assert await prompt_triggers(api) == ["api-capped"]
    [signal] = await signals(api)
    assert (signal["trigger"], signal["fired_at"]) == ("api-capped", "2026-12-02T09:05:00Z")
    assert signal["usage"]["api_calls"] == 100


async def test_a_prompt_hidden_from_a_user_still_signals_for_the_account(
    api: httpx.AsyncClient,
) -> None:
    # Ana dismissed the API prompt (shown earlier, e.g. on another account state): dismissals
    # are hers, the signal is the account's.
    earlier = PromptIdCodec(SIGNING_SECRET).encode(PromptRef("acme", "ana", "api-capped", T0))
    dismissed = await api.post(f"/v1/prompts/{earlier}/events", json={"type": "dismissed"})
    assert dismissed.status_code == 202

    await set_usage(api, api_calls=100)

    assert await prompt_triggers(api) == []
    assert [t for _, t, _ in await fired(api)] == ["api-capped"]


async def test_a_put_that_changes_the_plan_can_fire_a_signal(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    await put_plan(api, "team")
    await set_usage(api, seats=3)  # 3 of 25 seats
    assert await signals(api) == []
    clock.advance(minutes=10)

    await put_plan(api, "free")  # 3 of 3 seats

    [signal] = await signals(api)
    assert (signal["trigger"], signal["plan"], signal["fired_at"]) == (
        "seats-pql",
        "free",
        "2026-12-02T09:10:00Z",
    )
    assert signal["usage"]["seats"] == 3


async def test_a_shadow_signal_trigger_records_none(api: httpx.AsyncClient) -> None:
    await set_usage(api, dashboards=3)
    await put_plan(api, "free")

    assert await signals(api) == []
    assert await prompt_triggers(api) == ["dashboards-used"]


async def test_signals_are_counted_in_metrics(api: httpx.AsyncClient) -> None:
    await set_usage(api, seats=3)
    await set_usage(api, seats=3)

    text = (await api.get("/metrics")).text
    assert 'nudge_signals_recorded_total{trigger="seats-pql",type="pql"} 1.0' in text


async def test_a_for_signal_waits_for_the_hold(app_on: Any, clock: FakeClock) -> None:
    async with app_on(HELD) as api:
        await set_usage(api, seats=3)
        assert await signals(api) == []
        clock.advance(minutes=59)
        await set_usage(api, seats=3)
        assert await signals(api) == []
        clock.advance(minutes=1)
        await api.get("/v1/prompts", params={"account_id": "acme"})  # the prompt path never writes
        assert await signals(api) == []

        await set_usage(api, seats=3)

        assert await fired(api) == [("acme", "seats-pql", "2026-12-02T10:00:00Z")]


async def test_a_for_signal_whose_hold_breaks_starts_waiting_again(
    app_on: Any, clock: FakeClock
) -> None:
    async with app_on(HELD) as api:
        await set_usage(api, seats=3)
        clock.advance(minutes=50)
        await set_usage(api, seats=2)
        clock.advance(minutes=10)
        await set_usage(api, seats=3)  # holds again from 10:00
        clock.advance(minutes=59)
        await set_usage(api, seats=3)
        assert await signals(api) == []
        clock.advance(minutes=1)

        await put_plan(api, "free")

        assert await fired(api) == [("acme", "seats-pql", "2026-12-02T11:00:00Z")]
