"""Acknowledged usage survives a restart of Redis (append-only file on) and of the service."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import NudgeFactory
from tests.support.redis_server import RedisServer

BATCH = {
    "events": [
        {"id": "seat-1", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"},
        {"id": "calls-1", "account_id": "acme", "metric": "api_calls", "value": 4000},
        {"id": "calls-2", "account_id": "acme", "metric": "api_calls", "value": 4500},
        {"id": "boards-1", "account_id": "globex", "metric": "dashboards", "value": 2},
    ]
}


async def usage_of(client: httpx.AsyncClient, account_id: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/accounts/{account_id}")
    assert answer.status_code == 200, answer.text
    usage: dict[str, Any] = answer.json()["usage"]
    return {metric: value["value"] for metric, value in usage.items()}


async def record(client: httpx.AsyncClient) -> None:
    assert (await client.put("/v1/accounts/acme", json={"plan": "free"})).status_code == 200
    acknowledged = await client.post("/v1/usage", json=BATCH)
    assert acknowledged.status_code == 202
    assert acknowledged.json() == {"accepted": 4, "duplicates": 0}


def assert_counts(acme: dict[str, Any], globex: dict[str, Any]) -> None:
    assert (acme["seats"], acme["api_calls"]) == (3, 8500)
    assert globex["dashboards"] == 2


async def test_acknowledged_usage_survives_a_redis_restart_under_a_running_service(
    client: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    assert redis_server.appendonly
    await record(client)

    redis_server.restart()

    # the service reconnects by itself: not even the first call after the restart fails
    again = await client.post("/v1/usage", json=BATCH)
    assert again.status_code == 202, again.text
    assert again.json() == {"accepted": 0, "duplicates": 4}
    assert_counts(await usage_of(client, "acme"), await usage_of(client, "globex"))


async def test_acknowledged_usage_survives_restarts_of_redis_and_of_the_service(
    nudge_app: NudgeFactory, redis_server: RedisServer
) -> None:
    async with nudge_app() as first:
        await record(first)

    redis_server.restart()

    async with nudge_app() as second:
        assert_counts(await usage_of(second, "acme"), await usage_of(second, "globex"))
        again = await second.post("/v1/usage", json=BATCH)
        assert again.status_code == 202
        assert again.json() == {"accepted": 0, "duplicates": 4}
        assert_counts(await usage_of(second, "acme"), await usage_of(second, "globex"))
        # the plan mirror survived too: the prompt path still knows acme is on free
        prompts = (await second.get("/v1/prompts", params={"account_id": "acme"})).json()
        assert [p["trigger"] for p in prompts["prompts"]] == ["seats-full", "api-calls-high"]


async def test_a_dismissal_survives_a_redis_restart(
    client: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    await record(client)
    params = {"account_id": "acme", "user_id": "ana"}
    prompts = (await client.get("/v1/prompts", params=params)).json()["prompts"]
    full = next(p for p in prompts if p["trigger"] == "seats-full")
    assert (
        await client.post(f"/v1/prompts/{full['id']}/events", json={"type": "dismissed"})
    ).status_code == 202

    redis_server.restart()

    after = (await client.get("/v1/prompts", params=params)).json()
    assert after["degraded"] is False
    assert [p["trigger"] for p in after["prompts"]] == ["api-calls-high"]


async def test_acknowledged_usage_survives_a_crash_of_the_redis_process(
    nudge_app: NudgeFactory, redis_server: RedisServer
) -> None:
    async with nudge_app() as first:
        await record(first)

    # SIGKILL: no shutdown save; what Redis acknowledged is already in its append-only file
    redis_server.kill()
    redis_server.start()

    async with nudge_app() as second:
        assert_counts(await usage_of(second, "acme"), await usage_of(second, "globex"))
        again = await second.post("/v1/usage", json=BATCH)
        assert again.json() == {"accepted": 0, "duplicates": 4}
