"""Fixtures of the integration tests: the store's two backends.

- `redis_cluster`: a real three-node Redis Cluster this suite started (session-wide, it
  takes a few seconds to form); `cluster_url` flushes every node for the test.
- `backend`: each store test runs twice, on the suite's single redis-server and on the
  cluster, with a raw (synchronous) client of that backend to look at what was written.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.support.redis_cluster import RedisCluster
from tests.support.redis_server import redis_server_binary
from tests.support.store_backend import StoreBackend


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    if redis_server_binary() is None:
        pytest.fail("redis-server is needed for the cluster tests")
    nodes = RedisCluster(Path(tmp_path_factory.mktemp("cluster")))
    try:
        nodes.start()
        yield nodes
    finally:
        nodes.stop()


@pytest.fixture
def cluster_url(redis_cluster: RedisCluster) -> str:
    """The session's cluster, every node flushed for this test."""
    for node in redis_cluster.nodes:
        node.client().flushall()
    return redis_cluster.url


@pytest.fixture(params=["redis-server", "redis-cluster"])
def backend(request: pytest.FixtureRequest) -> Iterator[StoreBackend]:
    """The suite's single redis-server, then its cluster: each flushed for the test."""
    raw: redis.Redis | redis.RedisCluster
    if request.param == "redis-server":
        url = request.getfixturevalue("redis_url")
        raw = redis.Redis.from_url(url, decode_responses=True)
    else:
        url = request.getfixturevalue("cluster_url")
        raw = redis.RedisCluster.from_url(url, decode_responses=True)
    try:
        yield StoreBackend(url, cluster=request.param == "redis-cluster", raw=raw)
    finally:
        raw.close()
