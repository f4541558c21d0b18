"""Usage in Redis: each metric's gauge level or counter window, and the event ids applied.

Usage writes go through one Lua script per account, so each account's events of a
batch apply all together or not at all, and an event id is applied at most once even
when the same batch is retried concurrently. The prompt path reads each metric's
current key (counters: the window that contains now) in its one MGET.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from app.engine import CounterWindow, RuleSet, window_id
from app.store import keys
from app.store.redis_client import StoreClient


@dataclass(frozen=True, slots=True)
class UsageWrite:
    """One validated usage event of a metric."""

    event_id: str
    metric: str
    op: Literal["incr", "set"]
    value: float
    window: CounterWindow | None  # a counter's window; None for a gauge
    at: datetime  # when it happened: a counter counts it in the window that contains it


class UsageCounters:
    def __init__(self, client: StoreClient, *, dedupe_ttl_hours: int) -> None:
        self._client = client
        self._event_ttl = keys.event_ttl_seconds(dedupe_ttl_hours)
        self._apply_usage = client.script("apply_usage")

    async def apply(
        self, writes: Mapping[str, Sequence[UsageWrite]], *, now: datetime
    ) -> tuple[int, int]:
        """Apply each account's writes atomically; return (accepted, duplicates).

        Accounts are applied concurrently, one script call each. If any fails the
        whole call raises StoreUnavailable; a retry completes it, and what was
        applied already counts as duplicate.
        """
        async with self._client.call("storing usage"):
            results = await asyncio.gather(
                *(
                    self._apply_account(account, events, now=now)
                    for account, events in writes.items()
                )
            )
        return sum(r[0] for r in results), sum(r[1] for r in results)

    async def _apply_account(
        self, account_id: str, writes: Sequence[UsageWrite], *, now: datetime
    ) -> tuple[int, int]:
        script_keys: list[str] = []
        args: list[str | int] = [self._event_ttl]
        for write in writes:
            if write.window is None:
                target, ttl = keys.gauge_key(account_id, write.metric), 0  # 0: no TTL
            else:
                window = window_id(write.window, write.at)
                target = keys.counter_key(account_id, write.metric, window_id=window)
                ttl = keys.counter_ttl_seconds(write.window, write.at, now=now)
            script_keys += [keys.event_key(account_id, write.event_id), target]
            args += [write.op, repr(float(write.value)), ttl]
        accepted, duplicates = await self._apply_usage(keys=script_keys, args=args)
        return int(accepted), int(duplicates)


def usage_section(account_id: str, rules: RuleSet, *, now: datetime) -> dict[str, str]:
    """metric -> the key that holds its current usage (counters: the current window)."""
    return {
        metric.name: (
            keys.gauge_key(account_id, metric.name)
            if metric.window is None
            else keys.counter_key(account_id, metric.name, window_id=window_id(metric.window, now))
        )
        for metric in rules.metrics.values()
    }


def decode_usage(values: Mapping[str, str | None]) -> dict[str, float]:
    """metric -> its usage, for the metrics that have any. Raises ValueError for a value
    Nudge did not write: the prompts made of it could not be trusted."""
    return {metric: _usage(raw) for metric, raw in values.items() if raw is not None}


def _usage(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(f"usage {raw!r} is not a finite number")
    return value
