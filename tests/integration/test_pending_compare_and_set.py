"""FiringMarks.mark_pending with a snapshot is a compare-and-set: it writes the `for:`
marks worked out from an account read only if the account's mirror and usage still hold
what was read, so a usage batch landing in between never leaves a stale mark (or clears
a live one). On the suite's real redis-server and on a real Redis Cluster."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import redis

from app.engine import RuleSet, holding_triggers, load_rules
from app.store.redis_client import create_redis
from app.store.redis_store import RedisStore
from tests.support.store_backend import StoreBackend

RULES = """\
metrics:
  seats: {type: gauge}
  dashboards: {type: gauge}
default_plan: free
plans:
  free:
    limits: {seats: 3, dashboards: 3}
    upgrade_to: team
  team:
    limits: {seats: 25, dashboards: 100}
triggers:
  - id: seats-full
    metric: seats
    threshold: 100%
    for: 1h
    prompt: {title: "Your team is full"}
"""
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
MARK = "nudge:{acme}:pending:seats-full"
SEATS = "nudge:{acme}:g:seats"
MIRROR = "nudge:{acme}:account"
Raw = redis.Redis | redis.RedisCluster


@pytest.fixture
def rules() -> RuleSet:
    loaded = load_rules({"rules.yaml": RULES})
    assert loaded.rules is not None, [str(p) for p in loaded.problems]
    return loaded.rules


@pytest.fixture
async def store(backend: StoreBackend) -> AsyncIterator[RedisStore]:
    client = create_redis(backend.url, cluster=backend.cluster, timeout_seconds=5)
    yield RedisStore.on(client, budget_seconds=5, dedupe_ttl_hours=24)
    await client.aclose()


@pytest.fixture
def raw(backend: StoreBackend) -> Raw:
    return backend.raw


def text(raw: Raw, key: str) -> str | None:
    """A key's value as the suite's client decodes it (a str), None where missing."""
    found = raw.get(key)
    assert found is None or isinstance(found, str)
    return found


async def settle_once(
    store: RedisStore,
    rules: RuleSet,
    raw: Raw,
    *,
    change: tuple[str, str | None] | None = None,
) -> bool:
    """Read acme, apply `change` (key, value; None deletes) as another writer would, then
    write the marks worked out from the first read."""
    snapshot = await store.states.read_account_state("acme", rules, now=NOW)
    holding = holding_triggers(rules, snapshot.state)
    if change is not None:
        key, value = change
        if value is None:
            raw.delete(key)
        else:
            raw.set(key, value)
    return await store.marks.mark_pending(
        "acme", rules, holding=holding, now=NOW, snapshot=snapshot
    )


async def test_with_the_account_unchanged_the_mark_is_written(
    store: RedisStore, rules: RuleSet, raw: Raw
) -> None:
    raw.set(SEATS, "3.0")

    assert await settle_once(store, rules, raw) is True

    value = text(raw, MARK)
    assert value is not None
    assert value.split(":")[0] == str(NOW_MS)
    assert value.endswith(rules.by_id["seats-full"].hold_fingerprint)
    state = (await store.states.read_account_state("acme", rules, now=NOW)).state
    assert state.pending_since == {"seats-full": NOW}


@pytest.mark.parametrize(
    "change",
    [
        (SEATS, "4.0"),  # another usage report moved the gauge
        (SEATS, None),  # ... or the gauge was reset
        (MIRROR, '{"plan":"team","attributes":{}}'),  # a PUT changed the plan
    ],
    ids=["usage-changed", "usage-removed", "plan-changed"],
)
async def test_a_change_after_the_read_writes_no_mark_and_says_so(
    store: RedisStore, rules: RuleSet, raw: Raw, change: tuple[str, str | None]
) -> None:
    raw.set(SEATS, "3.0")

    assert await settle_once(store, rules, raw, change=change) is False

    assert text(raw, MARK) is None


async def test_a_usage_key_that_appears_after_the_read_writes_no_mark(
    store: RedisStore, rules: RuleSet, raw: Raw
) -> None:
    # Read while dashboards had never been reported: its key was missing, not "".
    raw.set(SEATS, "3.0")

    assert (
        await settle_once(store, rules, raw, change=("nudge:{acme}:g:dashboards", "1.0")) is False
    )
    assert text(raw, MARK) is None


async def test_a_stale_read_that_would_clear_a_live_mark_keeps_it(
    store: RedisStore, rules: RuleSet, raw: Raw
) -> None:
    raw.set(SEATS, "3.0")
    assert await settle_once(store, rules, raw) is True
    live_mark = text(raw, MARK)
    raw.set(SEATS, "2.0")

    # The read sees 2 seats (no longer holds, so the mark would be cleared), but 3 seats
    # were reported before the marks are written: the mark must stay.
    assert await settle_once(store, rules, raw, change=(SEATS, "3.0")) is False

    assert text(raw, MARK) == live_mark


async def test_after_a_failed_attempt_a_fresh_read_writes_the_mark(
    store: RedisStore, rules: RuleSet, raw: Raw
) -> None:
    raw.set(SEATS, "2.0")
    assert await settle_once(store, rules, raw, change=(SEATS, "3.0")) is False
    assert text(raw, MARK) is None

    assert await settle_once(store, rules, raw) is True

    assert (text(raw, MARK) or "").startswith(f"{NOW_MS}:")
