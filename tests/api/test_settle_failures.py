"""Settling an account's `for:` marks and signals after a usage report may fail; the
report is still stored and answered 202, the failure is counted, and a signal whose SQL
write failed is recorded by the account's next change instead of being lost for its
cooldown, yet never recorded twice in it. Against real redis-server processes and
SQLite (PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy

from app.store import database
from tests.conftest import NudgeFactory
from tests.support.api_calls import fired, set_usage, signals
from tests.support.clock import T0, FakeClock
from tests.support.metrics_text import sample
from tests.support.redis_server import RedisServer
from tests.support.rule_sets import write_rules

TRIGGERS = """\
  - id: seats-pql
    metric: seats
    threshold: 100%
    signal: pql
    cooldown: 1d
  - id: dashboards-held
    metric: dashboards
    threshold: 2
    for: 1h
    prompt: {title: "Many dashboards"}
"""
SETTLE_ERRORS = "nudge_firing_settle_errors_total"


@pytest.fixture
def raw(redis_url: str, redis_server: RedisServer) -> redis.Redis:
    return redis_server.client()


@asynccontextmanager
async def started(
    nudge_app: NudgeFactory, database_url: str, rules_dir: Path, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    engine = database.create_database_engine(database_url)
    try:
        database.upgrade(engine)
    finally:
        engine.dispose()
    clock.now = T0
    write_rules(rules_dir, TRIGGERS)
    async with nudge_app(database_url=database_url) as client:
        yield client


@pytest.fixture
async def api(
    nudge_app: NudgeFactory, database_url: str, rules_dir: Path, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on TRIGGERS, on SQLite."""
    async with started(nudge_app, database_url, rules_dir, clock) as client:
        yield client


@pytest.fixture
async def api_any(
    nudge_app: NudgeFactory, any_database_url: str, rules_dir: Path, clock: FakeClock
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on TRIGGERS, on SQLite and (when configured) PostgreSQL."""
    async with started(nudge_app, any_database_url, rules_dir, clock) as client:
        yield client


async def settle_errors(client: httpx.AsyncClient) -> float:
    return sample((await client.get("/metrics")).text, SETTLE_ERRORS) or 0.0


@contextmanager
def signals_table_gone(database_url: str) -> Iterator[None]:
    """The signals table renamed away (as a broken migration or a DBA might), then back."""
    engine = database.create_database_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(sqlalchemy.text("ALTER TABLE signals RENAME TO signals_away"))
        try:
            yield
        finally:
            with engine.begin() as connection:
                connection.execute(sqlalchemy.text("ALTER TABLE signals_away RENAME TO signals"))
    finally:
        engine.dispose()


# --- 2. a failed settle never fails the usage report -----------------------------------


@pytest.mark.parametrize(
    "mirror", ['{"plan":["free"]}', "not json", '{"plan":"free","attributes":"x"}']
)
async def test_usage_is_stored_and_accepted_when_settling_the_account_fails(
    api: httpx.AsyncClient, raw: redis.Redis, mirror: str
) -> None:
    raw.set("nudge:{acme}:account", mirror)
    before = await settle_errors(api)

    answer = await api.post(
        "/v1/usage",
        json={
            "events": [
                {"id": "e-1", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"},
                {
                    "id": "e-2",
                    "account_id": "acme",
                    "metric": "dashboards",
                    "value": 2,
                    "op": "set",
                },
            ]
        },
    )

    assert answer.status_code == 202, answer.text
    assert answer.json() == {"accepted": 2, "duplicates": 0}
    assert raw.get("nudge:{acme}:g:seats") == "3.0"
    assert raw.get("nudge:{acme}:g:dashboards") == "2.0"
    assert await settle_errors(api) == before + 1
    # Nothing was settled from a state Nudge cannot read: no mark, no signal.
    assert raw.get("nudge:{acme}:pending:dashboards-held") is None
    assert await signals(api) == []


async def test_a_failed_settle_of_one_account_leaves_the_others_of_the_batch_settled(
    api: httpx.AsyncClient, raw: redis.Redis
) -> None:
    raw.set("nudge:{acme}:account", '{"plan":["free"]}')
    before = await settle_errors(api)

    answer = await api.post(
        "/v1/usage",
        json={
            "events": [
                {"id": "a", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"},
                {"id": "g", "account_id": "globex", "metric": "seats", "value": 3, "op": "set"},
            ]
        },
    )

    assert answer.status_code == 202, answer.text
    assert [(account, trigger) for account, trigger, _ in await fired(api)] == [
        ("globex", "seats-pql")
    ]
    assert await settle_errors(api) == before + 1


async def test_once_the_mirror_is_fixed_the_next_report_settles_the_account(
    api: httpx.AsyncClient, raw: redis.Redis, clock: FakeClock
) -> None:
    raw.set("nudge:{acme}:account", '{"plan":["free"]}')
    await set_usage(api, seats=3)
    assert await signals(api) == []

    fixed = await api.put("/v1/accounts/acme", json={"plan": "free"})

    assert fixed.status_code == 200, fixed.text
    assert [(a, t) for a, t, _ in await fired(api)] == [("acme", "seats-pql")]


# --- 6. a signal whose SQL write failed is not lost for its cooldown --------------------


async def test_a_signal_whose_sql_write_failed_is_recorded_by_the_next_report(
    api_any: httpx.AsyncClient, any_database_url: str, clock: FakeClock
) -> None:
    before = await settle_errors(api_any)
    with signals_table_gone(any_database_url):
        await set_usage(api_any, seats=3)  # fires seats-pql: the SQL write fails, still 202
        failed = await settle_errors(api_any)
    clock.advance(minutes=5)

    await set_usage(api_any, seats=3)

    assert failed == before + 1
    found = await signals(api_any)
    assert [(s["account_id"], s["trigger"], s["fired_at"]) for s in found] == [
        ("acme", "seats-pql", "2026-12-02T09:05:00Z")
    ]
    # Recorded once: further reports within the cooldown add none.
    clock.advance(minutes=5)
    await set_usage(api_any, seats=4)
    assert len(await signals(api_any)) == 1


async def test_a_failed_signal_write_does_not_keep_the_usage_from_being_stored(
    api_any: httpx.AsyncClient, any_database_url: str, raw: redis.Redis
) -> None:
    with signals_table_gone(any_database_url):
        answer = await api_any.post(
            "/v1/usage",
            json={
                "events": [
                    {"id": "s", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"}
                ]
            },
        )

    assert answer.status_code == 202, answer.text
    assert raw.get("nudge:{acme}:g:seats") == "3.0"
    account: dict[str, Any] = (await api_any.get("/v1/accounts/acme")).json()
    assert account["usage"]["seats"]["value"] == 3


# A request cancelled while its signal's INSERT waits (a shutdown's cancellation, say):
# the INSERT runs in a worker thread that the cancellation does not stop. SQLite's write
# lock, held by another connection, keeps it waiting for as long as the test needs.
SQLITE_BUSY_TIMEOUT_SECONDS = 5  # app/store/database.py


@contextmanager
def write_lock(database_url: str) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        yield connection
    finally:
        connection.close()  # rolls back if still open


def stored_signals(database_url: str) -> int:
    with sqlite3.connect(database_url.removeprefix("sqlite:///")) as connection:
        count: int = connection.execute("SELECT count(*) FROM signals").fetchone()[0]
    connection.close()
    return count


async def cancel_while_the_signal_is_written(api: httpx.AsyncClient, raw: redis.Redis) -> None:
    """Report usage that fires seats-pql and cancel the request once its INSERT waits."""
    event = {"id": uuid.uuid4().hex, "account_id": "acme", "metric": "seats", "value": 3}
    request = asyncio.create_task(api.post("/v1/usage", json={"events": [{**event, "op": "set"}]}))
    deadline = time.monotonic() + 5
    while raw.get("nudge:{acme}:sig:seats-pql") is None:  # claimed: the INSERT is next
        assert time.monotonic() < deadline, "the signal was never claimed"
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request


async def test_a_cancelled_signal_write_that_still_commits_is_not_recorded_again(
    api: httpx.AsyncClient, database_url: str, raw: redis.Redis, clock: FakeClock
) -> None:
    with write_lock(database_url) as lock:
        await cancel_while_the_signal_is_written(api, raw)
        lock.execute("ROLLBACK")  # the waiting INSERT goes on and commits
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while stored_signals(database_url) == 0:
        assert time.monotonic() < deadline, "the cancelled INSERT never committed"
        await asyncio.sleep(0.02)
    clock.advance(minutes=5)

    await set_usage(api, seats=3)  # within the day's cooldown of the stored signal

    assert await fired(api) == [("acme", "seats-pql", "2026-12-02T09:00:00Z")]


async def test_a_cancelled_signal_write_that_fails_is_recorded_by_the_next_report(
    api: httpx.AsyncClient, database_url: str, raw: redis.Redis, clock: FakeClock
) -> None:
    with write_lock(database_url):
        await cancel_while_the_signal_is_written(api, raw)
        # Held past the busy timeout: the waiting INSERT gives up, nothing is stored.
        await asyncio.sleep(SQLITE_BUSY_TIMEOUT_SECONDS + 1)
    assert stored_signals(database_url) == 0
    clock.advance(minutes=5)

    await set_usage(api, seats=3)

    assert await fired(api) == [("acme", "seats-pql", "2026-12-02T09:05:00Z")]
