"""The Redis store's contract, family by family, on a single redis-server and on a real
three-node Redis Cluster alike: what each write leaves in Redis (the keys, values and
TTLs of docs/operations.md's key table) and what the prompt path's one read makes of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from app.engine import Impression, RuleSet, window_end, window_id
from app.store.redis_client import create_redis
from app.store.redis_store import RedisStore
from app.store.usage_counters import UsageWrite
from tests.support.rule_sets import STORE_PLANS, rules_from
from tests.support.store_backend import StoreBackend

# Caps and triggers over STORE_PLANS.
RULES = """\
caps:
  any: {count: 4, per: 3d, scope: account}
triggers:
  - id: seats-full
    metric: seats
    threshold: 100%
    cooldown: 2d
    max_impressions: {count: 2, per: 14d}
    prompt: {style: modal, title: "Your team is full"}
  - id: api-calls-busy
    metric: api_calls
    threshold: 80%
    for: 1h
    signal: pql
    prompt: {title: "Busy month"}
"""
DEDUPE_TTL_HOURS = 24
# What Redis reports as a TTL may lag the moment it was set by the time it is read.
SLACK_SECONDS = 5


@pytest.fixture
def rules() -> RuleSet:
    return rules_from(STORE_PLANS, RULES)


@pytest.fixture
async def store(backend: StoreBackend) -> AsyncIterator[RedisStore]:
    client = create_redis(backend.url, cluster=backend.cluster, timeout_seconds=5)
    yield RedisStore.on(client, budget_seconds=5, dedupe_ttl_hours=DEDUPE_TTL_HOURS)
    await client.aclose()


def usage(
    event_id: str, metric: str, value: float, *, now: datetime, window: bool = False
) -> UsageWrite:
    """A usage event as the usage service resolves it: gauges set, counters (of this
    month) incremented."""
    if not window:
        return UsageWrite(event_id, metric, "set", value, None, now)
    return UsageWrite(event_id, metric, "incr", value, "month", now)


def assert_ttl(backend: StoreBackend, key: str, expected: timedelta) -> None:
    """The key expires in `expected` from about now."""
    ttl_ms = backend.raw.pttl(key)
    assert isinstance(ttl_ms, int) and ttl_ms > 0
    assert abs(ttl_ms / 1000 - expected.total_seconds()) <= SLACK_SECONDS


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


# -- usage counters ---------------------------------------------------------------------


async def test_usage_is_applied_once_per_event_id(store: RedisStore, backend: StoreBackend) -> None:
    now = datetime.now(UTC)
    writes = {
        "acme": [
            usage("e1", "seats", 3, now=now),
            usage("e2", "api_calls", 10, now=now, window=True),
            usage("e3", "api_calls", 5, now=now, window=True),
        ],
        "globex": [usage("e1", "seats", 7, now=now)],
    }

    assert await store.usage.apply(writes, now=now) == (4, 0)
    assert await store.usage.apply(writes, now=now) == (0, 4)

    raw = backend.raw
    assert raw.get("nudge:{acme}:g:seats") == "3.0"
    assert raw.get(f"nudge:{{acme}}:c:api_calls:{window_id('month', now)}") == "15"
    assert raw.get("nudge:{globex}:g:seats") == "7.0"
    assert raw.get("nudge:{acme}:ev:e1") == raw.get("nudge:{globex}:ev:e1") == "1"


async def test_a_gauge_never_expires_a_counter_outlives_its_window_an_event_id_its_dedupe_ttl(
    store: RedisStore, backend: StoreBackend
) -> None:
    now = datetime.now(UTC)
    await store.usage.apply(
        {
            "acme": [
                usage("e1", "seats", 3, now=now),
                usage("e2", "api_calls", 10, now=now, window=True),
            ]
        },
        now=now,
    )

    assert backend.raw.ttl("nudge:{acme}:g:seats") == -1
    counter = f"nudge:{{acme}}:c:api_calls:{window_id('month', now)}"
    assert_ttl(backend, counter, window_end("month", now) - now + timedelta(days=36))
    assert_ttl(backend, "nudge:{acme}:ev:e2", timedelta(hours=DEDUPE_TTL_HOURS))


# -- account mirror ---------------------------------------------------------------------


async def test_the_mirror_holds_plan_and_attributes_as_json_with_no_ttl(
    store: RedisStore, backend: StoreBackend, rules: RuleSet
) -> None:
    await store.mirrors.write("acme", plan="team", attributes={"industry": "saas", "n": 2})

    assert backend.raw.get("nudge:{acme}:account") == (
        '{"plan":"team","attributes":{"industry":"saas","n":2}}'
    )
    assert backend.raw.ttl("nudge:{acme}:account") == -1
    mirror, read = await store.states.read_account("acme", rules, now=datetime.now(UTC))
    assert (mirror.plan, mirror.attributes) == ("team", {"industry": "saas", "n": 2})
    assert read == {"seats": 0.0, "api_calls": 0.0}


async def test_a_mirror_written_only_if_missing_never_replaces_one(
    store: RedisStore, rules: RuleSet
) -> None:
    await store.mirrors.write("acme", plan="team", attributes={})
    await store.mirrors.write("acme", plan="free", attributes={}, only_if_missing=True)
    await store.mirrors.write("globex", plan="free", attributes={}, only_if_missing=True)

    now = datetime.now(UTC)
    assert (await store.states.read_account("acme", rules, now=now))[0].plan == "team"
    assert (await store.states.read_account("globex", rules, now=now))[0].plan == "free"


# -- prompt history ---------------------------------------------------------------------


async def test_a_dismissal_holds_its_time_for_the_cooldown(
    store: RedisStore, backend: StoreBackend, rules: RuleSet
) -> None:
    at = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    await store.history.dismiss(
        "acme", "ana", trigger_id="seats-full", at=at, cooldown=timedelta(days=2)
    )
    await store.history.dismiss(
        "acme", None, trigger_id="seats-full", at=at, cooldown=timedelta(hours=1)
    )

    assert backend.raw.get("nudge:{acme}:d:seats-full:u:ana") == str(ms(at))
    assert_ttl(backend, "nudge:{acme}:d:seats-full:u:ana", timedelta(days=2))
    assert_ttl(backend, "nudge:{acme}:d:seats-full:anon", timedelta(hours=1))
    ana = await store.states.read_state("acme", "ana", rules=rules, now=at)
    anonymous = await store.states.read_state("acme", None, rules=rules, now=at)
    bob = await store.states.read_state("acme", "bob", rules=rules, now=at)
    assert ana.dismissed_at == anonymous.dismissed_at == {"seats-full": at}
    assert bob.dismissed_at == {}


async def test_an_impression_is_recorded_once_in_the_users_and_the_accounts_list(
    store: RedisStore, backend: StoreBackend, rules: RuleSet
) -> None:
    at = datetime.now(UTC).replace(microsecond=0)

    async def record(digest: str) -> bool:
        return await store.history.record_impression(
            "acme",
            "ana",
            impression=Impression(trigger="seats-full", style="modal", at=at),
            prompt_digest=digest,
            rules=rules,
        )

    assert await record("digest-1") is True
    assert await record("digest-1") is False

    for key in ("nudge:{acme}:imp:u:ana", "nudge:{acme}:imp:account"):
        assert backend.raw.get(key) == f'[["seats-full","modal",{ms(at)},"digest-1"]]'
        assert_ttl(backend, key, timedelta(days=14))
    state = await store.states.read_state("acme", "ana", rules=rules, now=at)
    assert [(i.trigger, i.style, i.at) for i in state.impressions] == [("seats-full", "modal", at)]
    assert [i.trigger for i in state.account_impressions] == ["seats-full"]
    assert (await store.states.read_state("acme", "bob", rules=rules, now=at)).impressions == []


# -- firing marks -----------------------------------------------------------------------


async def test_a_pending_mark_over_a_counter_ends_with_the_counters_window(
    store: RedisStore, backend: StoreBackend, rules: RuleSet
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    fingerprint = rules.by_id["api-calls-busy"].hold_fingerprint
    ends = window_end("month", now)

    await store.marks.mark_pending("acme", rules, holding={"api-calls-busy"}, now=now)

    key = "nudge:{acme}:pending:api-calls-busy"
    assert backend.raw.get(key) == f"{ms(now)}:{ms(ends)}:{fingerprint}"
    assert_ttl(backend, key, ends - datetime.now(UTC))
    state = (await store.states.read_account_state("acme", rules, now=now)).state
    assert state.pending_since == {"api-calls-busy": now}

    await store.marks.mark_pending("acme", rules, holding=set(), now=now)
    assert backend.raw.get(key) is None


async def test_a_signal_is_claimed_once_per_cooldown_and_a_released_claim_again(
    store: RedisStore, backend: StoreBackend
) -> None:
    now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    cooldown = timedelta(days=7)

    assert await store.marks.open_signal_gate("acme", "api-calls-busy", cooldown=cooldown, now=now)
    assert not await store.marks.open_signal_gate(
        "acme", "api-calls-busy", cooldown=cooldown, now=now + timedelta(days=6)
    )
    assert await store.marks.open_signal_gate(
        "globex", "api-calls-busy", cooldown=cooldown, now=now
    )
    key = "nudge:{acme}:sig:api-calls-busy"
    assert backend.raw.get(key) == str(ms(now))
    assert_ttl(backend, key, cooldown)

    await store.marks.close_signal_gate("acme", "api-calls-busy")

    assert backend.raw.get(key) is None
    assert await store.marks.open_signal_gate(
        "acme", "api-calls-busy", cooldown=cooldown, now=now + timedelta(days=6)
    )


# -- the prompt path's read ---------------------------------------------------------------


async def test_the_prompt_read_sees_every_family_of_the_account(
    store: RedisStore, rules: RuleSet
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await store.mirrors.write("acme", plan="free", attributes={"industry": "saas"})
    await store.usage.apply(
        {
            "acme": [
                usage("e1", "seats", 3, now=now),
                usage("e2", "api_calls", 90, now=now, window=True),
            ]
        },
        now=now,
    )
    await store.marks.mark_pending("acme", rules, holding={"api-calls-busy"}, now=now)
    await store.history.dismiss(
        "acme", "ana", trigger_id="seats-full", at=now, cooldown=timedelta(days=2)
    )

    state = await store.states.read_state("acme", "ana", rules=rules, now=now)

    assert (state.plan, state.attributes) == ("free", {"industry": "saas"})
    assert state.usage == {"seats": 3.0, "api_calls": 90.0}
    assert state.pending_since == {"api-calls-busy": now}
    assert state.dismissed_at == {"seats-full": now}
