"""Create the Redis client from settings: a single server or a Redis Cluster."""

from __future__ import annotations

from typing import TypeAlias

from redis.asyncio import Redis, RedisCluster

RedisClient: TypeAlias = "Redis | RedisCluster"


def create_redis(url: str, *, cluster: bool, timeout_seconds: float) -> RedisClient:
    """A client whose connects and commands give up after `timeout_seconds`."""
    options = {
        "decode_responses": True,
        "socket_connect_timeout": timeout_seconds,
        "socket_timeout": timeout_seconds,
    }
    if cluster:
        return RedisCluster.from_url(url, **options)  # type: ignore[arg-type]
    return Redis.from_url(url, health_check_interval=0, **options)  # type: ignore[arg-type]
