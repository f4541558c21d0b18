"""The prompt path reads one account's state in exactly one Redis round trip, proved by
Redis's own statistics (INFO commandstats), not by a counting wrapper of our own."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.services.client_tokens import mint_client_token
from tests.conftest import SIGNING_SECRET
from tests.support.clock import FakeClock
from tests.support.redis_commands import command_calls, commands_between
from tests.support.redis_server import RedisServer


@pytest.fixture
async def busy_account(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """acme on free, at every limit, with one dismissal: the read covers plan, usage, dismissals."""
    assert (await client.put("/v1/accounts/acme", json={"plan": "free"})).status_code == 200
    events = [
        {"id": "s", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"},
        {"id": "d", "account_id": "acme", "metric": "dashboards", "value": 3, "op": "set"},
        {"id": "a", "account_id": "acme", "metric": "api_calls", "value": 9000},
    ]
    assert (await client.post("/v1/usage", json={"events": events})).status_code == 202
    prompts = (
        await client.get("/v1/prompts", params={"account_id": "acme", "user_id": "ana"})
    ).json()
    dashboards = next(p for p in prompts["prompts"] if p["trigger"] == "dashboards-full")
    dismissed = await client.post(
        f"/v1/prompts/{dashboards['id']}/events", json={"type": "dismissed"}
    )
    assert dismissed.status_code == 202
    return client


async def test_one_prompt_request_is_one_mget(
    busy_account: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    params = {"account_id": "acme", "user_id": "ana", "placement": "global"}
    await busy_account.get("/v1/prompts", params=params)  # warm: the pool's connection exists
    stats = redis_server.client()
    before = command_calls(stats)
    processed_before = int(stats.info("stats")["total_commands_processed"])

    answer = await busy_account.get("/v1/prompts", params=params)

    processed_after = int(stats.info("stats")["total_commands_processed"])
    after = command_calls(stats)
    # the answer used plan, usage of two metrics and the dismissal of a third
    assert [p["trigger"] for p in answer.json()["prompts"]] == ["seats-full", "api-calls-high"]
    assert commands_between(before, after) == {"mget": 1}
    # Redis counts a command after it runs: the first INFO stats itself, then the one MGET
    assert processed_after - processed_before == 2


async def test_a_client_token_request_is_one_mget_too(
    busy_account: httpx.AsyncClient, redis_server: RedisServer, clock: FakeClock
) -> None:
    token = mint_client_token(
        "acme", "bob", secret=SIGNING_SECRET, now=clock.now, ttl=timedelta(hours=1)
    )
    headers = {"Authorization": f"Bearer {token}"}
    await busy_account.get("/v1/prompts", headers=headers)
    stats = redis_server.client()
    before = command_calls(stats)

    answer = await busy_account.get(
        "/v1/prompts", params={"placement": "dashboards"}, headers=headers
    )

    after = command_calls(stats)
    assert [p["trigger"] for p in answer.json()["prompts"]] == ["seats-full", "dashboards-full"]
    assert commands_between(before, after) == {"mget": 1}


async def test_an_unknown_account_is_one_mget(
    client: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    await client.get("/v1/prompts", params={"account_id": "warmup"})
    stats = redis_server.client()
    before = command_calls(stats)

    answer = await client.get("/v1/prompts", params={"account_id": "nobody", "user_id": "ana"})

    assert answer.json() == {"prompts": [], "degraded": False}
    assert commands_between(before, command_calls(stats)) == {"mget": 1}
