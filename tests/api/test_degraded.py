"""Redis down or frozen: prompts answer degraded and fast, usage is refused whole, all recovers.

These tests stop and freeze the suite's real redis-server, so wall time is the point here.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy
from prometheus_client.parser import text_string_to_metric_families

from app.settings import Settings
from tests.conftest import NudgeFactory
from tests.support.redis_server import RedisServer

# The bound for a degraded answer; the default budget is 50 ms.
DEGRADED_BOUND_SECONDS = 0.100
DEFAULT_BUDGET_MS = Settings.model_fields["redis_timeout_ms"].default
DEGRADED = {"prompts": [], "degraded": True}
PARAMS = {"account_id": "acme", "user_id": "ana"}


async def timed_prompts(client: httpx.AsyncClient) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    answer = await client.get("/v1/prompts", params=PARAMS)
    return answer, time.perf_counter() - started


def degraded_total(metrics_text: str) -> float:
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "nudge_prompts_degraded_total":
                return float(sample.value)
    raise AssertionError("nudge_prompts_degraded_total is not exported")


async def degraded_count(client: httpx.AsyncClient) -> float:
    return degraded_total((await client.get("/metrics")).text)


@pytest.fixture
async def client(nudge_app: NudgeFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the product's own Redis budget (the suite's other tests get more)."""
    async with nudge_app(redis_timeout_ms=DEFAULT_BUDGET_MS) as http:
        yield http


@pytest.fixture
async def full_team(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """acme on free with 3 of 3 seats; one prompt request made, so the pool is warm."""
    assert (await client.put("/v1/accounts/acme", json={"plan": "free"})).status_code == 200
    event = {"id": "seats", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"}
    assert (await client.post("/v1/usage", json={"events": [event]})).status_code == 202
    assert [
        p["trigger"] for p in (await client.get("/v1/prompts", params=PARAMS)).json()["prompts"]
    ] == ["seats-full"]
    return client


def assert_serves_seats_full(answer: httpx.Response) -> None:
    assert answer.status_code == 200
    body: dict[str, Any] = answer.json()
    assert body["degraded"] is False
    assert [p["trigger"] for p in body["prompts"]] == ["seats-full"]


async def test_with_redis_stopped_prompts_answer_degraded_in_under_100_ms(
    full_team: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    redis_server.stop()
    try:
        for _ in range(3):  # the first hits a dead pooled connection, the others a refused connect
            answer, elapsed = await timed_prompts(full_team)
            assert answer.status_code == 200
            assert answer.json() == DEGRADED
            assert elapsed < DEGRADED_BOUND_SECONDS, f"degraded answer took {elapsed * 1000:.0f} ms"
    finally:
        redis_server.start()

    assert_serves_seats_full(await full_team.get("/v1/prompts", params=PARAMS))


async def test_with_redis_frozen_prompts_answer_degraded_within_the_time_budget(
    full_team: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    redis_server.pause()
    try:
        for _ in range(3):
            answer, elapsed = await timed_prompts(full_team)
            assert answer.status_code == 200
            assert answer.json() == DEGRADED
            assert elapsed < DEGRADED_BOUND_SECONDS, f"degraded answer took {elapsed * 1000:.0f} ms"
    finally:
        redis_server.resume()

    assert_serves_seats_full(await full_team.get("/v1/prompts", params=PARAMS))


async def test_a_tighter_budget_setting_bounds_the_degraded_answer(
    nudge_app: NudgeFactory, redis_server: RedisServer
) -> None:
    async with nudge_app(redis_timeout_ms=10) as client:
        await client.get("/v1/prompts", params=PARAMS)
        redis_server.pause()
        try:
            answer, elapsed = await timed_prompts(client)
        finally:
            redis_server.resume()

    assert answer.json() == DEGRADED
    assert elapsed < 0.050, f"a 10 ms budget took {elapsed * 1000:.0f} ms"


async def test_degraded_answers_are_counted_in_metrics(
    full_team: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    before = await degraded_count(full_team)

    redis_server.stop()
    try:
        for _ in range(2):
            assert (await full_team.get("/v1/prompts", params=PARAMS)).json() == DEGRADED
        during = await degraded_count(full_team)
    finally:
        redis_server.start()
    await full_team.get("/v1/prompts", params=PARAMS)

    assert during == before + 2
    assert await degraded_count(full_team) == during  # a healthy answer is not counted


async def test_readiness_fails_while_redis_is_down_and_recovers_after(
    full_team: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    redis_server.stop()
    try:
        down = await full_team.get("/readyz")
    finally:
        redis_server.start()
    up = await full_team.get("/readyz")

    assert down.status_code == 503
    assert down.json()["checks"] == {"redis": "unreachable", "rules": "ok"}
    assert up.status_code == 200
    assert up.json()["checks"] == {"redis": "ok", "rules": "ok"}


async def test_readiness_fails_while_redis_is_frozen(
    full_team: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    redis_server.pause()
    try:
        frozen = await full_team.get("/readyz")
    finally:
        redis_server.resume()

    assert frozen.status_code == 503
    assert (await full_team.get("/readyz")).status_code == 200


async def test_liveness_holds_while_redis_is_down(
    full_team: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    redis_server.stop()
    try:
        answer = await full_team.get("/healthz")
    finally:
        redis_server.start()

    assert answer.status_code == 200


async def test_usage_is_refused_whole_with_retry_after_while_redis_is_down_and_a_retry_counts_once(
    full_team: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    batch = {
        "events": [
            {
                "id": f"e-{uuid.uuid4().hex}",
                "account_id": "acme",
                "metric": "dashboards",
                "value": 2,
            },
            {
                "id": f"e-{uuid.uuid4().hex}",
                "account_id": "globex",
                "metric": "api_calls",
                "value": 5,
            },
        ]
    }
    redis_server.stop()
    try:
        refused = await full_team.post("/v1/usage", json=batch)
    finally:
        redis_server.start()

    assert refused.status_code == 503
    assert refused.headers["Retry-After"].isdigit()
    assert refused.json()["error"]["code"] == "store_unavailable"

    retried = await full_team.post("/v1/usage", json=batch)
    assert retried.status_code == 202
    assert retried.json() == {"accepted": 2, "duplicates": 0}
    account = (await full_team.get("/v1/accounts/acme")).json()
    assert account["usage"]["dashboards"]["value"] == 2


async def test_a_dismissal_while_redis_is_down_is_refused_and_not_half_kept(
    full_team: httpx.AsyncClient, redis_server: RedisServer, database_url: str
) -> None:
    [full] = (await full_team.get("/v1/prompts", params=PARAMS)).json()["prompts"]

    redis_server.stop()
    try:
        refused = await full_team.post(
            f"/v1/prompts/{full['id']}/events", json={"type": "dismissed"}
        )
    finally:
        redis_server.start()

    assert refused.status_code == 503
    assert refused.json()["error"]["code"] == "store_unavailable"
    assert_serves_seats_full(await full_team.get("/v1/prompts", params=PARAMS))
    engine = sqlalchemy.create_engine(database_url)
    try:
        with engine.connect() as connection:
            kept = connection.execute(
                sqlalchemy.text("SELECT count(*) FROM prompt_events")
            ).scalar()
    finally:
        engine.dispose()
    assert kept == 0


async def test_a_value_nudge_did_not_write_answers_degraded_not_500(
    full_team: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    # An operator's hand edit (or a bad restore) leaves a key Nudge cannot read: the
    # prompt path must still answer, degraded, and say nothing it cannot vouch for.
    with redis.Redis.from_url(redis_server.url) as raw:
        raw.set("nudge:{acme}:g:seats", "three")
    answer, _ = await timed_prompts(full_team)

    assert answer.status_code == 200
    assert answer.json() == DEGRADED
    with redis.Redis.from_url(redis_server.url) as raw:
        raw.set("nudge:{acme}:g:seats", "3")
    assert_serves_seats_full(await full_team.get("/v1/prompts", params=PARAMS))
