"""Rate limits counted in process: a token bucket per key (an account and user, a client
address), with time as a parameter.

A bucket holds up to `count` requests and refills at `count` per `per_seconds`, so a
client may burst to the whole budget and then goes on at the steady rate. Each process
counts for itself (no Redis round trip on the prompt path): with several workers or
replicas behind a balancer, one client's budget is up to that many times the setting.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Hashable

from app.settings import Rate

# Keys kept at most; the least recently seen go first (a bucket that has been idle for
# its whole period is full again, the same as no bucket at all).
MAX_KEYS = 100_000


class RateLimiter:
    """Token buckets by key. Not thread-safe: one per event loop, as the app has."""

    def __init__(self, rate: Rate, *, max_keys: int = MAX_KEYS) -> None:
        self.rate = rate
        self._capacity = float(rate.count)
        self._refill = rate.count / rate.per_seconds  # requests per second
        self._max_keys = max_keys
        self._buckets: OrderedDict[Hashable, tuple[float, float]] = OrderedDict()

    def hit(self, key: Hashable, *, now: float) -> int | None:
        """Take one request from `key`'s budget at `now` (seconds): None if it passes,
        otherwise the whole seconds until a request would pass (nothing is taken)."""
        tokens, at = self._buckets.pop(key, (self._capacity, now))
        tokens = min(self._capacity, tokens + max(0.0, now - at) * self._refill)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
            return None
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1 - tokens) / self._refill))
