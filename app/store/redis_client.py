"""Create the Redis client from settings: a single server or a Redis Cluster."""

from __future__ import annotations

from typing import TypeAlias

from redis.asyncio import BlockingConnectionPool, Redis, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

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
