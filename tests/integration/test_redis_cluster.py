"""The same code on Redis Cluster: every key of one account shares one hash slot, so the
prompt path's single MGET and the usage script work across a real three-node cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from app.store import keys
from tests.conftest import NudgeFactory

ACCOUNTS = [f"acct-{n}" for n in range(12)]


@pytest.fixture
async def cluster_client(
    nudge_app: NudgeFactory, cluster_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with nudge_app(redis_url=cluster_url, redis_cluster=True) as http:
        yield http


def test_one_accounts_keys_share_a_hash_slot() -> None:
    from redis.crc import key_slot

    account = "acme.eu@2026"
    slot = key_slot(keys.account_key(account).encode())
    for key in (
        keys.gauge_key(account, "seats"),
        keys.counter_key(account, "api_calls", window_id="m202611"),
        keys.event_key(account, "evt-1"),
        keys.dismissal_key(account, "ana", trigger_id="seats-full"),
        keys.dismissal_key(account, None, trigger_id="seats-full"),
    ):
        assert key_slot(key.encode()) == slot


async def test_accounts_spread_over_the_cluster_get_usage_prompts_and_dismissals(
    cluster_client: httpx.AsyncClient,
) -> None:
    from redis.crc import key_slot

    owners = {key_slot(keys.account_key(a).encode()) * 3 // 16384 for a in ACCOUNTS}
    assert len(owners) > 1, "the test accounts should land on more than one node"

    for account in ACCOUNTS:
        assert (
            await cluster_client.put(f"/v1/accounts/{account}", json={"plan": "free"})
        ).status_code == 200
    events = [
        {"id": f"{a}-seats", "account_id": a, "metric": "seats", "value": 3, "op": "set"}
        for a in ACCOUNTS
    ] + [{"id": f"{a}-api", "account_id": a, "metric": "api_calls", "value": 10} for a in ACCOUNTS]
    posted = await cluster_client.post("/v1/usage", json={"events": events})
    assert posted.json() == {"accepted": 2 * len(ACCOUNTS), "duplicates": 0}
    retried = await cluster_client.post("/v1/usage", json={"events": events})
    assert retried.json() == {"accepted": 0, "duplicates": 2 * len(ACCOUNTS)}

    for account in ACCOUNTS:
        answer = (
            await cluster_client.get(
                "/v1/prompts", params={"account_id": account, "user_id": "ana"}
            )
        ).json()
        assert answer["degraded"] is False
        assert [p["trigger"] for p in answer["prompts"]] == ["seats-full"]
        dismissed = await cluster_client.post(
            f"/v1/prompts/{answer['prompts'][0]['id']}/events", json={"type": "dismissed"}
        )
        assert dismissed.status_code == 202
        after = (
            await cluster_client.get(
                "/v1/prompts", params={"account_id": account, "user_id": "ana"}
            )
        ).json()
        assert after["prompts"] == []
        usage = (await cluster_client.get(f"/v1/accounts/{account}")).json()["usage"]
        assert (usage["seats"]["value"], usage["api_calls"]["value"]) == (3, 10)
