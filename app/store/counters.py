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
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from redis.exceptions import RedisClusterException, RedisError, ResponseError

from app.engine import AccountState, RuleSet, UsageOp
from app.errors import StoreUnavailable
from app.store import keys
from app.store.account_state import AccountMirror, AccountSnapshot, StateRead, pending_mark
from app.store.redis_client import RedisClient

_LUA = resources.files("app.store").joinpath("lua")
_APPLY_USAGE = _LUA.joinpath("apply_usage.lua").read_text()
_RECORD_IMPRESSION = _LUA.joinpath("record_impression.lua").read_text()
_CLAIM_SIGNAL = _LUA.joinpath("claim_signal.lua").read_text()
_SETTLE_PENDING = _LUA.joinpath("settle_pending.lua").read_text()


@dataclass(frozen=True, slots=True)
class UsageWrite:
    """One validated usage event, resolved to the key it changes."""

    event_id: str
    metric: str
    op: UsageOp
    value: float
    window_id: str | None  # counters: the window the event falls in
    ttl_seconds: int  # counters: how long the window's key is kept; gauges: 0


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
        self._settle_pending = redis.register_script(_SETTLE_PENDING)

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
    ) -> AccountSnapshot:
        """The account-level state (no user): plan, attributes, usage, pending marks."""
        read = StateRead(account_id, rules, now=now)
        async with redis_errors("reading the account's state"):
            values = await self._redis.mget(read.keys)
        return AccountSnapshot(read, values, read.decode(values))

    async def mark_pending(
        self,
        account_id: str,
        rules: RuleSet,
        holding: Collection[str],
        *,
        now: datetime,
        snapshot: AccountSnapshot | None = None,
    ) -> bool:
        """Start the pending mark of each `for:` trigger that holds (unless it has a live
        one) and clear the marks of those that do not.

        With the `snapshot` `holding` was computed from, the marks are written only if the
        account's mirror and usage still hold the values read, checked and written in one
        script: a usage batch that landed in between would make `holding` stale. Returns
        False then, and the caller reads again.
        """
        inputs, expected = snapshot.inputs() if snapshot is not None else ([], [])
        marked = snapshot.state.pending_since if snapshot is not None else {}
        script_keys: list[str] = [*inputs]
        args: list[str | int] = [len(inputs), *expected]
        for trigger in rules.held_triggers:
            script_keys.append(keys.pending_key(account_id, trigger.id))
            if trigger.id not in holding:
                args += ["del", "", 0]
            elif trigger.id in marked:
                args += ["keep", "", 0]
            else:
                value, ends = pending_mark(trigger, now=now)
                args += ["set", value, ends or 0]
        async with redis_errors("recording pending triggers"):
            written = await self._settle_pending(keys=script_keys, args=args)
        return bool(written)

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
        keep: int,
    ) -> bool:
        """Add a shown prompt to the user's and the account's impression lists; False if
        this prompt was recorded already. Each list keeps, within the `horizon`, the
        newest `keep` impressions of each style and of each trigger."""
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
                    max(keep, 1),
                ],
            )
        return bool(recorded)

    async def read_account(
        self, account_id: str, rules: RuleSet, *, now: datetime
    ) -> tuple[AccountMirror, dict[str, float]]:
        """The mirrored plan and the current usage of every metric (counters: this window)."""
        snapshot = await self.read_account_state(account_id, rules, now=now)
        state = snapshot.state
        usage = {metric: state.usage.get(metric, 0.0) for metric in rules.metrics}
        return AccountMirror(state.plan, state.attributes), usage

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
