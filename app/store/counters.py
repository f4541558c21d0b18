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
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import Any, Literal

from redis.exceptions import RedisError, ResponseError

from app.engine.model import AccountState, RuleSet
from app.engine.windows import window_id
from app.errors import StoreUnavailable
from app.store import keys
from app.store.redis_client import RedisClient

_APPLY_USAGE = resources.files("app.store").joinpath("lua/apply_usage.lua").read_text()


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
async def _translated(action: str) -> AsyncIterator[None]:
    """Turn every way Redis can fail into StoreUnavailable, with what we were doing."""
    try:
        yield
    except ResponseError as exc:
        # Redis answered, with an error: out of memory, read-only replica, and the like.
        raise StoreUnavailable(
            f"Redis refused a command while {action} ({exc}); the operator must fix Redis, "
            "then retry the same request"
        ) from exc
    except (RedisError, OSError, TimeoutError) as exc:
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
        async with _translated("storing usage"):
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
        """One account's plan, attributes, usage and this user's dismissals: one MGET, under
        the budget."""
        metric_keys = _usage_keys(account_id, rules, now)
        dismissal_keys = [
            keys.dismissal_key(account_id, user_id, trigger.id) for trigger in rules.triggers
        ]
        async with _translated("reading the account's state"):
            async with asyncio.timeout(self._prompt_timeout):
                values = await self._redis.mget(
                    [keys.account_key(account_id), *metric_keys.values(), *dismissal_keys]
                )
        mirror = _decode_mirror(values[0])
        usage_values = values[1 : 1 + len(metric_keys)]
        dismissal_values = values[1 + len(metric_keys) :]
        return AccountState(
            plan=mirror.plan,
            usage={m: float(v) for m, v in zip(metric_keys, usage_values, strict=True) if v},
            dismissed_at={
                trigger.id: datetime.fromtimestamp(int(v) / 1000, UTC)
                for trigger, v in zip(rules.triggers, dismissal_values, strict=True)
                if v
            },
            attributes=mirror.attributes,
        )

    async def read_account(
        self, account_id: str, rules: RuleSet, *, now: datetime
    ) -> tuple[AccountMirror, dict[str, float]]:
        """The mirrored plan and the current usage of every metric (counters: this window)."""
        metric_keys = _usage_keys(account_id, rules, now)
        async with _translated("reading the account"):
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
        async with _translated("mirroring the account"):
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
        async with _translated("recording the dismissal"):
            await self._redis.set(
                keys.dismissal_key(account_id, user_id, trigger_id), at_ms, ex=seconds
            )


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
