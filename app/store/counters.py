"""Per-account state in Redis: usage counters, the plan mirror and dismissals.

Reads for the prompt path take exactly one round trip (one MGET over keys that
share the account's hash slot) under a time budget. Usage writes go through one
Lua script per account, so each account's events of a batch apply all together
or not at all, and an event id is applied at most once even when the same batch
is retried concurrently.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, Literal

from redis.exceptions import RedisClusterException, RedisError, ResponseError

from app.engine.model import AccountState, Impression, RuleSet
from app.engine.windows import window_end, window_id
from app.errors import StoreUnavailable
from app.store import keys
from app.store.redis_client import RedisClient

_LUA = resources.files("app.store").joinpath("lua")
_APPLY_USAGE = _LUA.joinpath("apply_usage.lua").read_text()
_RECORD_IMPRESSION = _LUA.joinpath("record_impression.lua").read_text()
_CLAIM_SIGNAL = _LUA.joinpath("claim_signal.lua").read_text()
# Impressions kept per list: enough for any cap or max_impressions count (at most 1000).
MAX_IMPRESSIONS_KEPT = 1000


@dataclass(frozen=True, slots=True)
class UsageWrite:
    """One validated usage event, resolved to the key it changes."""

    event_id: str
    metric: str
    op: Literal["incr", "set"]
    value: float
    window_id: str | None  # counters: the window the event falls in
    ttl_seconds: int  # counters: how long the window's key is kept; gauges: 0


@dataclass(frozen=True, slots=True)
class AccountMirror:
    """The account's plan and attributes as mirrored into Redis; None if never PUT."""

    plan: str | None
    attributes: Mapping[str, Any]


@asynccontextmanager
async def redis_errors(action: str) -> AsyncIterator[None]:
    """Turn every way Redis can fail into StoreUnavailable, with what we were doing."""
    try:
        yield
    except ResponseError as exc:
        # Redis answered, with an error: out of memory, read-only replica, and the like.
        raise StoreUnavailable(
            f"Redis refused a command while {action} ({exc}); the operator must fix Redis, "
            "then retry the same request"
        ) from exc
    except (RedisError, RedisClusterException, OSError, TimeoutError) as exc:
        # RedisClusterException (no node reachable, not a cluster node) is no RedisError.
        reason = (
            type(exc).__name__ if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        )
        raise StoreUnavailable(
            f"Redis did not answer while {action} ({reason}); retry the same request"
        ) from exc


class CounterStore:
    def __init__(
        self, redis: RedisClient, *, prompt_timeout_seconds: float, dedupe_ttl_seconds: int
    ) -> None:
        self._redis = redis
        self._prompt_timeout = prompt_timeout_seconds
        self._dedupe_ttl = dedupe_ttl_seconds
        self._apply_usage = redis.register_script(_APPLY_USAGE)
        self._record_impression = redis.register_script(_RECORD_IMPRESSION)
        self._claim_signal = redis.register_script(_CLAIM_SIGNAL)

    async def ping(self, *, timeout_seconds: float) -> bool:
        try:
            async with asyncio.timeout(timeout_seconds):
                return bool(await self._redis.ping())
        except (RedisError, OSError, TimeoutError):
            return False

    async def apply_usage(self, writes: Mapping[str, Sequence[UsageWrite]]) -> tuple[int, int]:
        """Apply each account's writes atomically; return (accepted, duplicates).

        Accounts are applied concurrently, one script call each. If any fails the
        whole call raises StoreUnavailable; a retry completes it, and what was
        applied already counts as duplicate.
        """
        # A retry of the same batch is safe: events already stored count as duplicates.
        async with redis_errors("storing usage"):
            results = await asyncio.gather(
                *(self._apply_account(account, events) for account, events in writes.items())
            )
        return sum(r[0] for r in results), sum(r[1] for r in results)

    async def _apply_account(
        self, account_id: str, writes: Sequence[UsageWrite]
    ) -> tuple[int, int]:
        script_keys: list[str] = []
        args: list[str | int] = [self._dedupe_ttl]
        for write in writes:
            target = (
                keys.gauge_key(account_id, write.metric)
                if write.window_id is None
                else keys.counter_key(account_id, write.metric, write.window_id)
            )
            script_keys += [keys.event_key(account_id, write.event_id), target]
            args += [write.op, repr(float(write.value)), write.ttl_seconds]
        accepted, duplicates = await self._apply_usage(keys=script_keys, args=args)
        return int(accepted), int(duplicates)

    async def read_state(
        self, account_id: str, user_id: str | None, rules: RuleSet, *, now: datetime
    ) -> AccountState:
        """What the prompt path needs of one account and user: one MGET, under the budget."""
        read = StateRead(account_id, rules, now=now, user_id=user_id, for_user=True)
        async with redis_errors("reading the account's state"):
            async with asyncio.timeout(self._prompt_timeout):
                values = await self._redis.mget(read.keys)
        return read.decode(values)

    async def read_account_state(
        self, account_id: str, rules: RuleSet, *, now: datetime
    ) -> AccountState:
        """The account-level state (no user): plan, attributes, usage, pending marks."""
        read = StateRead(account_id, rules, now=now)
        async with redis_errors("reading the account's state"):
            values = await self._redis.mget(read.keys)
        return read.decode(values)

    async def mark_pending(
        self,
        account_id: str,
        rules: RuleSet,
        holding: Collection[str],
        *,
        marked: Collection[str] = (),
        now: datetime,
    ) -> None:
        """Start the pending mark of each `for:` trigger that holds and is not `marked`
        (has a live mark in the state just read), and clear the marks of those that do
        not hold.

        A trigger that reads a counter holds at most until the counter's window ends (its
        count starts again at zero): its mark carries that end, and reads past it find no
        mark. The key also expires then; the value, not the TTL, decides, so the marks
        follow the service's clock.
        """
        async with (
            redis_errors("recording pending triggers"),
            self._redis.pipeline(transaction=False) as pipe,
        ):
            for trigger in rules.held_triggers:
                key = keys.pending_key(account_id, trigger.id)
                if trigger.id not in holding:
                    pipe.delete(key)
                elif trigger.id not in marked:
                    mark = _ms(now)
                    if not trigger.counter_windows:
                        pipe.set(key, mark)
                        continue
                    ends = _ms(min(window_end(w, now) for w in trigger.counter_windows))
                    pipe.set(key, f"{mark}:{ends}", pxat=ends)
            await pipe.execute()

    async def open_signal_gate(
        self, account_id: str, trigger_id: str, *, cooldown: timedelta, now: datetime
    ) -> bool:
        """Claim the right to record the trigger's signal for the account, once per
        cooldown (timed by the service's clock); False if it was claimed within it."""
        async with redis_errors("claiming a signal"):
            claimed = await self._claim_signal(
                keys=[keys.signal_gate_key(account_id, trigger_id)],
                args=[int(now.timestamp() * 1000), max(int(cooldown.total_seconds() * 1000), 1)],
            )
        return bool(claimed)

    async def close_signal_gate(self, account_id: str, trigger_id: str) -> None:
        """Release a claim whose signal could not be recorded, so the next change retries."""
        async with redis_errors("releasing a signal claim"):
            await self._redis.delete(keys.signal_gate_key(account_id, trigger_id))

    async def record_impression(
        self,
        account_id: str,
        user_id: str | None,
        *,
        trigger_id: str,
        style: str,
        prompt_digest: str,
        at: datetime,
        horizon: timedelta,
    ) -> bool:
        """Add a shown prompt to the user's and the account's impression lists; False if
        this prompt was recorded already."""
        async with redis_errors("recording the impression"):
            recorded = await self._record_impression(
                keys=[
                    keys.impressions_key(account_id, user_id),
                    keys.account_impressions_key(account_id),
                ],
                args=[
                    trigger_id,
                    style,
                    int(at.timestamp() * 1000),
                    prompt_digest,
                    max(int(horizon.total_seconds() * 1000), 1),
                    MAX_IMPRESSIONS_KEPT,
                ],
            )
        return bool(recorded)

    async def read_account(
        self, account_id: str, rules: RuleSet, *, now: datetime
    ) -> tuple[AccountMirror, dict[str, float]]:
        """The mirrored plan and the current usage of every metric (counters: this window)."""
        metric_keys = _usage_keys(account_id, rules, now)
        async with redis_errors("reading the account"):
            values = await self._redis.mget([keys.account_key(account_id), *metric_keys.values()])
        usage = {m: float(v) if v else 0.0 for m, v in zip(metric_keys, values[1:], strict=True)}
        return _decode_mirror(values[0]), usage

    async def write_account(
        self,
        account_id: str,
        *,
        plan: str,
        attributes: Mapping[str, Any],
        only_if_missing: bool = False,
    ) -> None:
        payload = json.dumps({"plan": plan, "attributes": attributes}, separators=(",", ":"))
        async with redis_errors("mirroring the account"):
            await self._redis.set(keys.account_key(account_id), payload, nx=only_if_missing)

    async def dismiss(
        self,
        account_id: str,
        user_id: str | None,
        trigger_id: str,
        *,
        at: datetime,
        cooldown: timedelta,
    ) -> None:
        seconds = max(int(cooldown.total_seconds()), 1)
        at_ms = int(at.timestamp() * 1000)
        async with redis_errors("recording the dismissal"):
            await self._redis.set(
                keys.dismissal_key(account_id, user_id, trigger_id), at_ms, ex=seconds
            )


class StateRead:
    """The keys of one account's state and how to decode their values: what the prompt
    path reads in one MGET, and what tools read in pipelines for many accounts.

    All keys share the account's hash tag, so one MGET reads them on Redis Cluster too.
    Without `for_user`, the state is the account's own: no dismissals nor impressions.
    """

    def __init__(
        self,
        account_id: str,
        rules: RuleSet,
        *,
        now: datetime,
        user_id: str | None = None,
        for_user: bool = False,
    ) -> None:
        self._rules = rules
        self._now = now
        self._usage_keys = _usage_keys(account_id, rules, now)
        self._prompting = [t for t in rules.triggers if t.prompt is not None] if for_user else []
        self._held = rules.held_triggers
        self._impressions = for_user and rules.impressions_horizon is not None
        self.keys = [
            keys.account_key(account_id),
            *self._usage_keys.values(),
            *(keys.pending_key(account_id, t.id) for t in self._held),
            *(keys.dismissal_key(account_id, user_id, t.id) for t in self._prompting),
        ]
        if self._impressions:
            self.keys += [
                keys.impressions_key(account_id, user_id),
                keys.account_impressions_key(account_id),
            ]

    def decode(self, values: Sequence[Any]) -> AccountState:
        """The state from the values of `keys`, in order (strings, None where missing).

        A value Nudge did not write (an operator's edit, a restore gone wrong) raises
        StoreUnavailable, as Redis being down does: the prompt path answers degraded
        instead of failing.
        """
        try:
            return self._decode(values)
        except (ValueError, TypeError, AttributeError) as exc:
            raise StoreUnavailable(
                f"a key of the account holds a value Nudge did not write ({exc}); "
                f"inspect the keys {self.keys[0].removesuffix(':account')}:*"
            ) from exc

    def _decode(self, values: Sequence[Any]) -> AccountState:
        mirror = _decode_mirror(values[0])
        rest = iter(values[1:])
        usage = {m: float(v) for m, v in zip(self._usage_keys, rest, strict=False) if v}
        pending = {
            t.id: since
            for t, v in zip(self._held, rest, strict=False)
            if v and (since := _pending_since(v, self._now)) is not None
        }
        dismissed = {t.id: _from_ms(v) for t, v in zip(self._prompting, rest, strict=False) if v}
        impressions: list[Impression] = []
        account_impressions: list[Impression] = []
        if self._impressions:
            impressions = _decode_impressions(next(rest))
            account_impressions = _decode_impressions(next(rest))
        return AccountState(
            plan=mirror.plan,
            usage=usage,
            dismissed_at=dismissed,
            attributes=mirror.attributes,
            pending_since=pending,
            impressions=impressions,
            account_impressions=account_impressions,
        )


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _pending_since(value: str, now: datetime) -> datetime | None:
    """A pending mark's start, or None once the window it was set in has ended."""
    since, _, ends = value.partition(":")
    if ends and _ms(now) >= int(ends):
        return None
    return _from_ms(since)


def _from_ms(value: str) -> datetime:
    return datetime.fromtimestamp(int(float(value)) / 1000, UTC)


def _decode_impressions(raw: str | None) -> list[Impression]:
    if not raw:
        return []
    entries = json.loads(raw)
    if not isinstance(entries, list):  # Lua's cjson writes an empty list as {}
        return []
    return [
        Impression(trigger, style, datetime.fromtimestamp(at / 1000, UTC))
        for trigger, style, at, _digest in entries
    ]


def _usage_keys(account_id: str, rules: RuleSet, now: datetime) -> dict[str, str]:
    """metric -> the key that holds its current usage."""
    return {
        metric.name: (
            keys.gauge_key(account_id, metric.name)
            if metric.window is None
            else keys.counter_key(account_id, metric.name, window_id(metric.window, now))
        )
        for metric in rules.metrics.values()
    }


def _decode_mirror(raw: str | bytes | None) -> AccountMirror:
    if not raw:
        return AccountMirror(plan=None, attributes={})
    data = json.loads(raw)
    return AccountMirror(plan=data.get("plan"), attributes=data.get("attributes") or {})
