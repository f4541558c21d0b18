"""A real three-node Redis Cluster on loopback, built with CLUSTER MEET and ADDSLOTS
(no redis-cli needed), for proving that one account's keys stay on one slot."""

from __future__ import annotations

import random
import time
from pathlib import Path

from tests.support.redis_server import RedisServer, port_is_free

SLOTS = 16384
BUS_PORT_OFFSET = 10000  # Redis's cluster bus listens on port + 10000


def _port_with_free_bus() -> int:
    """A free port whose cluster-bus port (+10000) is free and valid too."""
    for _ in range(200):
        port = random.randint(20000, 40000)
        if all(port_is_free(p) for p in (port, port + BUS_PORT_OFFSET)):
            return port
    raise RuntimeError("no free port pair for a Redis Cluster node")


class RedisCluster:
    def __init__(self, data_dir: Path, *, nodes: int = 3) -> None:
        self.nodes = [
            RedisServer(
                data_dir / f"node{i}",
                extra_args=["--cluster-enabled", "yes"],
                port=_port_with_free_bus(),
            )
            for i in range(nodes)
        ]

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        per_node = SLOTS // len(self.nodes)
        for index, node in enumerate(self.nodes):
            first = index * per_node
            last = SLOTS - 1 if index == len(self.nodes) - 1 else first + per_node - 1
            node.client().execute_command("CLUSTER ADDSLOTS", *range(first, last + 1))
        for node in self.nodes[1:]:
            self.nodes[0].client().execute_command("CLUSTER MEET", "127.0.0.1", node.port)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            states = [node.client().cluster("INFO").get("cluster_state") for node in self.nodes]
            if all(state == "ok" for state in states):
                return
            time.sleep(0.1)
        raise RuntimeError("the test Redis Cluster did not reach cluster_state:ok")

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
