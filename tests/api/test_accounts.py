"""PUT and GET /v1/accounts/{id}, on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.store import database
from tests.conftest import NudgeFactory
from tests.support.clock import FakeClock
from tests.support.redis_server import RedisServer


@pytest.fixture
async def api(nudge_app: NudgeFactory, any_database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app on SQLite or PostgreSQL, migrated first as `nudge db upgrade` would."""
    engine = database.create_database_engine(any_database_url)
    try:
        database.upgrade(engine)
    finally:
        engine.dispose()
    async with nudge_app(database_url=any_database_url) as http:
        yield http


async def put(client: httpx.AsyncClient, account: str, **body: Any) -> httpx.Response:
    return await client.put(f"/v1/accounts/{account}", json=body)


async def get(client: httpx.AsyncClient, account: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/accounts/{account}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def prompt_triggers(client: httpx.AsyncClient, account: str) -> list[str]:
    answer = await client.get("/v1/prompts", params={"account_id": account})
    assert answer.status_code == 200, answer.text
    return [p["trigger"] for p in answer.json()["prompts"]]


async def test_put_creates_the_account_and_answers_with_the_shape_of_get(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    answer = await put(api, "acme", plan="team", attributes={"industry": "retail", "size": 40})

    assert answer.status_code == 200
    created = answer.json()
    assert created["account_id"] == "acme"
    assert created["plan"] == "team"
    assert created["attributes"] == {"industry": "retail", "size": 40}
    assert created["usage"]["seats"] == {"value": 0, "limit": 25}
    assert created["usage"]["api_calls"] == {
        "value": 0,
        "limit": 1000000,
        "window": "month",
        "resets_at": "2026-04-01T00:00:00Z",
    }
    assert created["created_at"].startswith("2026-03-10T12:00:00")
    assert await get(api, "acme") == created


async def test_put_without_plan_gives_a_new_account_the_default_plan(
    api: httpx.AsyncClient,
) -> None:
    answer = await put(api, "acme", attributes={"industry": "retail"})

    assert answer.status_code == 200
    assert answer.json()["plan"] == "free"
    assert (await get(api, "acme"))["plan"] == "free"


async def test_put_without_plan_keeps_the_plan_of_an_existing_account(
    api: httpx.AsyncClient,
) -> None:
    await put(api, "acme", plan="team")

    answer = await put(api, "acme", attributes={"industry": "retail"})

    assert answer.json()["plan"] == "team"
    account = await get(api, "acme")
    assert (account["plan"], account["attributes"]) == ("team", {"industry": "retail"})


async def test_put_attributes_replace_the_stored_ones(api: httpx.AsyncClient) -> None:
    await put(api, "acme", attributes={"industry": "retail", "region": "eu"})

    answer = await put(api, "acme", attributes={"size": 12})

    assert answer.json()["attributes"] == {"size": 12}
    assert (await get(api, "acme"))["attributes"] == {"size": 12}


async def test_put_without_attributes_keeps_them(api: httpx.AsyncClient) -> None:
    await put(api, "acme", plan="free", attributes={"industry": "retail"})

    await put(api, "acme", plan="team")

    assert (await get(api, "acme"))["attributes"] == {"industry": "retail"}


async def test_unknown_plan_is_422_naming_it_and_the_known_plans_and_writes_nothing(
    api: httpx.AsyncClient,
) -> None:
    await put(api, "acme", plan="team", attributes={"industry": "retail"})

    answer = await put(api, "acme", plan="enterprise", attributes={"industry": "banking"})

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert "enterprise" in error["message"]
    for known in ("free", "team", "business"):
        assert known in error["message"]
    assert [d["field"] for d in error["details"]] == ["plan"]
    account = await get(api, "acme")
    assert (account["plan"], account["attributes"]) == ("team", {"industry": "retail"})


async def test_unknown_plan_does_not_create_the_account(api: httpx.AsyncClient) -> None:
    answer = await put(api, "newco", plan="enterprise")

    assert answer.status_code == 422
    account = await get(api, "newco")
    assert (account["plan"], account["created_at"]) == ("free", None)


async def test_never_put_account_has_the_default_plan_and_its_limits(
    api: httpx.AsyncClient,
) -> None:
    account = await get(api, "stranger")

    assert account["account_id"] == "stranger"
    assert account["plan"] == "free"
    assert account["attributes"] == {}
    usage = account["usage"]
    assert set(usage) == {"seats", "dashboards", "api_calls", "history_days"}
    assert usage["seats"] == {"value": 0, "limit": 3}
    assert usage["dashboards"] == {"value": 0, "limit": 3}
    assert usage["history_days"] == {"value": 0, "limit": 30}
    assert usage["api_calls"]["limit"] == 10000
    assert usage["api_calls"]["window"] == "month"


async def test_unlimited_metrics_have_a_null_limit(api: httpx.AsyncClient) -> None:
    await put(api, "bigco", plan="business")

    usage = (await get(api, "bigco"))["usage"]

    for metric in ("seats", "dashboards", "api_calls", "history_days"):
        assert usage[metric]["limit"] is None, metric
    assert usage["api_calls"]["window"] == "month"
    assert "window" not in usage["seats"]


async def test_counters_say_their_window_and_reset_and_gauges_do_not(
    api: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)

    usage = (await get(api, "acme"))["usage"]

    assert usage["api_calls"]["window"] == "month"
    assert usage["api_calls"]["resets_at"] == "2027-01-01T00:00:00Z"
    for gauge in ("seats", "dashboards", "history_days"):
        assert "window" not in usage[gauge]
        assert "resets_at" not in usage[gauge]


async def test_get_shows_the_usage_reported_for_the_account(api: httpx.AsyncClient) -> None:
    await put(api, "acme", plan="team")
    await api.post(
        "/v1/usage",
        json={
            "events": [
                {"id": "s", "account_id": "acme", "metric": "seats", "value": 7, "op": "set"},
                {"id": "c", "account_id": "acme", "metric": "api_calls", "value": 120},
            ]
        },
    )

    usage = (await get(api, "acme"))["usage"]

    assert usage["seats"] == {"value": 7, "limit": 25}
    assert usage["api_calls"]["value"] == 120


async def test_plan_is_mirrored_into_redis(
    api: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    await put(api, "acme", plan="team", attributes={"industry": "retail"})

    mirror = json.loads(redis_server.client().get("nudge:{acme}:account") or "{}")

    assert mirror["plan"] == "team"
    assert mirror["attributes"] == {"industry": "retail"}


async def test_plan_change_changes_the_prompts(
    api: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    await api.post(
        "/v1/usage",
        json={
            "events": [
                {"id": "s", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"}
            ]
        },
    )
    assert await prompt_triggers(api, "acme") == ["seats-full"]

    await put(api, "acme", plan="team")

    assert json.loads(redis_server.client().get("nudge:{acme}:account") or "{}")["plan"] == "team"
    assert await prompt_triggers(api, "acme") == []
    await put(api, "acme", plan="free")
    assert await prompt_triggers(api, "acme") == ["seats-full"]


@pytest.mark.parametrize("account", ["a b", "x{y}", "acme:ev", "a" * 129, "caf\u00e9"])
async def test_invalid_account_ids_are_422(api: httpx.AsyncClient, account: str) -> None:
    put_answer = await put(api, account, plan="team")
    get_answer = await api.get(f"/v1/accounts/{account}")

    for answer in (put_answer, get_answer):
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["code"] == "invalid_request"
        assert error["details"][0]["field"] == "account_id"
        assert "A-Z a-z 0-9" in error["details"][0]["message"]


async def test_longest_allowed_account_id_with_every_allowed_character_works(
    api: httpx.AsyncClient,
) -> None:
    account = ("Az09._@+-" * 15)[:128]

    answer = await put(api, account, plan="team")

    assert answer.status_code == 200
    assert (await get(api, account))["plan"] == "team"


@pytest.mark.parametrize(
    "body",
    [{"plan": 3}, {"attributes": ["a"]}, {"plan": "team", "tier": "gold"}],
    ids=["plan not a string", "attributes not an object", "unknown field"],
)
async def test_malformed_account_bodies_are_422_and_write_nothing(
    api: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    answer = await api.put("/v1/accounts/acme", json=body)

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_request"
    assert (await get(api, "acme"))["created_at"] is None


async def test_get_restores_a_plan_mirror_that_redis_lost(
    api: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    await put(api, "acme", plan="business")
    redis_server.client().delete("nudge:{acme}:account")
    await api.post(
        "/v1/usage",
        json={"events": [{"id": "s", "account_id": "acme", "metric": "seats", "value": 3}]},
    )
    assert await prompt_triggers(api, "acme") == ["seats-full"]  # mirror lost: default plan

    assert (await get(api, "acme"))["plan"] == "business"

    assert await prompt_triggers(api, "acme") == []  # business has no seat limit
    mirrored = json.loads(redis_server.client().get("nudge:{acme}:account") or "{}")
    assert mirrored["plan"] == "business"


async def test_concurrent_first_puts_of_one_account_all_succeed(api: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(*(put(api, "newco", plan="team") for _ in range(8)))

    assert [answer.status_code for answer in answers] == [200] * 8
    assert (await get(api, "newco"))["plan"] == "team"


async def test_attributes_over_16_kib_are_refused_and_nothing_is_written(
    api: httpx.AsyncClient,
) -> None:
    await put(api, "acme", plan="team", attributes={"industry": "retail"})

    answer = await put(api, "acme", plan="free", attributes={"notes": "x" * 17_000})

    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["field"] == "attributes"
    assert "16 KiB" in answer.json()["error"]["message"]
    stored = await get(api, "acme")
    assert (stored["plan"], stored["attributes"]) == ("team", {"industry": "retail"})


async def test_put_without_a_plan_asks_for_one_when_the_stored_plan_left_the_rules(
    api: httpx.AsyncClient, rules_dir: Path
) -> None:
    await put(api, "acme", plan="team")
    core = rules_dir / "core.yaml"
    core.write_text(
        core.read_text()
        .replace("  team:", "  squad:")
        .replace("upgrade_to: team", "upgrade_to: squad")
    )
    assert (await api.post("/v1/rules/reload")).status_code == 200

    answer = await put(api, "acme", attributes={"seats_wanted": 40})

    assert answer.status_code == 422
    assert 'plan "team" is no longer in the rules' in answer.json()["error"]["message"]
    assert (await put(api, "acme", plan="squad")).json()["plan"] == "squad"
