"""The store's one client of Redis: a single server or a Redis Cluster.

Every store module reaches Redis through a StoreClient: the one place where
redis-py's errors become StoreUnavailable, where the Lua scripts are registered, and
where the prompt path's time budget is applied.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import TypeAlias

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError, ResponseError

from app.errors import StoreUnavailable

RedisClient: TypeAlias = "Redis | RedisCluster"

# Connections per process (per node on a cluster). When all are busy a call waits for
# one instead of failing: usage batches spanning many accounts and bursts of prompt
# requests queue here, each still bounded by its own time budget.
MAX_CONNECTIONS = 100


def create_redis(url: str, *, cluster: bool, timeout_seconds: float) -> RedisClient:
    """A client whose connects and commands give up after `timeout_seconds`."""
    if cluster:
        return RedisCluster.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=timeout_seconds,
            socket_timeout=timeout_seconds,
            max_connections=MAX_CONNECTIONS,
        )
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=timeout_seconds,
        decode_responses=True,
        socket_connect_timeout=timeout_seconds,
        socket_timeout=timeout_seconds,
        # After Redis restarts, every pooled connection is dead once: retry a connection
        # error once, at once, on a fresh connection (not timeouts: they keep their bound).
        # Safe because every write is idempotent (usage is deduplicated by event id).
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
    return Redis(connection_pool=pool)


class StoreClient:
    """A Redis client as the store's modules use it; `budget_seconds` bounds each call
    made `within_budget` (the prompt path's read), on top of the client's own timeouts."""

    def __init__(self, redis: RedisClient, *, budget_seconds: float) -> None:
        self.redis = redis
        self._budget = budget_seconds
        self._scripts: dict[str, AsyncScript] = {}

    def script(self, name: str) -> AsyncScript:
        """The Lua script `lua/<name>.lua`, registered once (redis-py loads it on first use)."""
        if name not in self._scripts:
            source = resources.files("app.store").joinpath("lua", f"{name}.lua").read_text()
            self._scripts[name] = self.redis.register_script(source)
        return self._scripts[name]

    @asynccontextmanager
    async def call(self, action: str, *, within_budget: bool = False) -> AsyncIterator[RedisClient]:
        """The client, for the commands of `action`: how they fail becomes StoreUnavailable
        saying what we were doing; `within_budget`, they give up after the budget."""
        async with redis_errors(action):
            if within_budget:
                async with asyncio.timeout(self._budget):
                    yield self.redis
            else:
                yield self.redis

    async def ping(self, *, timeout_seconds: float) -> bool:
        """Whether Redis answers within `timeout_seconds` (readiness: never raises)."""
        try:
            async with asyncio.timeout(timeout_seconds):
                return bool(await self.redis.ping())
        except (RedisError, OSError, TimeoutError):
            return False


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
