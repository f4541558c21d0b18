"""A Redis the store's tests run on: the suite's single redis-server, or its Redis Cluster."""

from __future__ import annotations

from dataclasses import dataclass

import redis


@dataclass(frozen=True)
class StoreBackend:
    url: str
    cluster: bool
    raw: redis.Redis | redis.RedisCluster  # decodes to str, as the store's own client does
