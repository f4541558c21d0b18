"""Usage under concurrent retries, partial application and a Redis outage."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.redis_server import RedisServer
from tests.support.usage import event, usage_of


def mixed_batch() -> list[dict[str, Any]]:
    """50 events over two accounts: 30 API calls of acme (2 each), 20 dashboards of globex."""
    acme = [event(f"acme-{i}", "api_calls", "acme", value=2) for i in range(30)]
    globex = [event(f"globex-{i}", "dashboards", "globex") for i in range(20)]
    return [item for pair in zip(acme, globex, strict=False) for item in pair] + acme[20:]


async def test_same_batch_posted_concurrently_by_many_clients_counts_once(
    client: httpx.AsyncClient,
) -> None:
    batch = mixed_batch()
    assert len(batch) == 50

    answers = await asyncio.gather(
        *(client.post("/v1/usage", json={"events": batch}) for _ in range(20))
    )

    assert [a.status_code for a in answers] == [202] * 20
    assert sum(a.json()["accepted"] for a in answers) == 50
    assert sum(a.json()["duplicates"] for a in answers) == 19 * 50
    assert (await usage_of(client, "acme"))["api_calls"] == 60
    assert (await usage_of(client, "globex"))["dashboards"] == 20


async def test_concurrent_sets_of_the_same_id_keep_one_payload(client: httpx.AsyncClient) -> None:
    answers = await asyncio.gather(
        *(
            client.post(
                "/v1/usage",
                json={"events": [event("seats-now", "seats", "acme", value=n, op="set")]},
            )
            for n in range(1, 11)
        )
    )

    accepted = [n for n, a in zip(range(1, 11), answers, strict=True) if a.json()["accepted"]]
    assert len(accepted) == 1
    assert (await usage_of(client, "acme"))["seats"] == accepted[0]


async def test_retry_of_a_partly_applied_batch_completes_it_without_double_counting(
    client: httpx.AsyncClient,
) -> None:
    batch = mixed_batch()
    applied_part = [e for e in batch if e["account_id"] == "acme"]
    first = await client.post("/v1/usage", json={"events": applied_part})
    assert first.json() == {"accepted": 30, "duplicates": 0}

    retry = await client.post("/v1/usage", json={"events": batch})

    assert retry.status_code == 202
    assert retry.json() == {"accepted": 20, "duplicates": 30}
    assert (await usage_of(client, "acme"))["api_calls"] == 60
    assert (await usage_of(client, "globex"))["dashboards"] == 20


async def test_usage_with_redis_down_is_503_with_retry_after_and_retry_counts_once(
    client: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    batch = mixed_batch()
    redis_server.stop()
    try:
        down = await client.post("/v1/usage", json={"events": batch})
    finally:
        redis_server.start()

    assert down.status_code == 503
    assert int(down.headers["Retry-After"]) >= 1
    error = down.json()["error"]
    assert error["code"] == "store_unavailable"
    assert "retry" in error["message"]
    assert error["details"] == []

    back = await client.post("/v1/usage", json={"events": batch})

    assert back.status_code == 202
    assert back.json() == {"accepted": 50, "duplicates": 0}
    again = await client.post("/v1/usage", json={"events": batch})
    assert again.json() == {"accepted": 0, "duplicates": 50}
    assert (await usage_of(client, "acme"))["api_calls"] == 60
    assert (await usage_of(client, "globex"))["dashboards"] == 20


async def test_a_full_batch_over_a_thousand_accounts_is_accepted(client: httpx.AsyncClient) -> None:
    batch = [event(f"e-{n}", "api_calls", f"acct-{n}", value=n) for n in range(1000)]

    answers = await asyncio.gather(
        *(client.post("/v1/usage", json={"events": batch}) for _ in range(3))
    )

    assert [a.status_code for a in answers] == [202] * 3, answers[0].text
    assert sum(a.json()["accepted"] for a in answers) == 1000
    assert (await usage_of(client, "acct-999"))["api_calls"] == 999
