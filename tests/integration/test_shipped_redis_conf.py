"""The shipped `deploy/redis.conf` starts a real redis-server, the two ways the docs run it.

Outside Docker (docs/operations.md, "Your own Redis"): `redis-server deploy/redis.conf
--dir <data folder>` from the repository, or without `--dir` in the folder that is to hold
the data. In docker compose: the redis service's command from docker-compose.yml, with its
volumes resolved to folders on this machine (no Docker engine runs here). Each test adds
only `--port` (a free one) and `--bind 127.0.0.1` (so that the test's server is not
reachable from the network) to what a user runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import redis
import yaml
from redis.backoff import NoBackoff
from redis.retry import Retry

from tests.support.redis_server import RedisServer, redis_server_binary

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CONF = REPO / "deploy" / "redis.conf"
COMPOSE_FILE = REPO / "docker-compose.yml"

# What docs/operations.md ("Durability") promises of the shipped configuration.
PROMISED = {
    "appendonly": "yes",
    "appendfsync": "everysec",
    "save": "",
    "maxmemory-policy": "noeviction",
}


class ShippedRedis(RedisServer):
    """The suite's redis-server, started with a command line as a user would type it, in
    `cwd`; only the free port and the loopback bind are the suite's."""

    def __init__(self, command: Sequence[str], *, cwd: Path, log: Path) -> None:
        super().__init__(cwd)
        self.log = log
        self.typed = [*command, "--port", str(self.port), "--bind", "127.0.0.1"]

    def command(self) -> list[str]:
        return self.typed

    def client(self) -> redis.Redis:
        # No retries: a server that is not up yet (or died) is seen at once.
        return redis.Redis(
            port=self.port, socket_timeout=2, decode_responses=True, retry=Retry(NoBackoff(), 0)
        )

    def config(self, name: str) -> str:
        return str(self.client().config_get(name)[name])


@pytest.fixture
def binary() -> str:
    found = redis_server_binary()
    if found is None:
        pytest.fail("redis-server is needed: apt-get install redis-server")
    return found


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    data = tmp_path / "redis-data"
    data.mkdir()
    return data


@pytest.fixture
def outside_docker(binary: str, data_dir: Path, tmp_path: Path) -> Iterator[ShippedRedis]:
    """`redis-server deploy/redis.conf --dir <data folder>`, from the repository, as documented."""
    server = ShippedRedis(
        [binary, "deploy/redis.conf", "--dir", str(data_dir)], cwd=REPO, log=tmp_path / "redis.out"
    )
    yield server
    server.stop()


def compose_redis_command(binary: str, volumes: dict[str, Path]) -> list[str]:
    """docker-compose.yml's redis command, each mounted container path replaced by its host path.

    `volumes` maps a named volume to the folder standing in for it; a bind mount (`./...`)
    is the file in this repository, as compose would mount it.
    """
    service = yaml.safe_load(COMPOSE_FILE.read_text())["services"]["redis"]
    mounts: dict[str, Path] = {}
    for volume in service["volumes"]:
        source, target = volume.split(":")[:2]
        mounts[target] = REPO / source if source.startswith(".") else volumes[source]
    program, *arguments = service["command"]
    assert program == "redis-server"
    return [binary, *(str(mounts.get(argument, argument)) for argument in arguments)]


def test_the_shipped_conf_starts_redis_outside_docker_with_its_files_in_the_dir_given(
    outside_docker: ShippedRedis, data_dir: Path
) -> None:
    outside_docker.start()

    assert outside_docker.client().ping()
    assert Path(outside_docker.config("dir")) == data_dir
    assert any(entry.name.startswith("appendonly") for entry in data_dir.iterdir())


def test_without_a_dir_the_shipped_conf_keeps_redis_files_in_the_folder_it_was_started_in(
    binary: str, data_dir: Path, tmp_path: Path
) -> None:
    server = ShippedRedis([binary, str(SHIPPED_CONF)], cwd=data_dir, log=tmp_path / "redis.out")
    try:
        server.start()

        assert Path(server.config("dir")) == data_dir
        assert any(entry.name.startswith("appendonly") for entry in data_dir.iterdir())
    finally:
        server.stop()


def test_the_shipped_conf_turns_on_what_the_durability_docs_promise(
    outside_docker: ShippedRedis,
) -> None:
    outside_docker.start()

    assert {name: outside_docker.config(name) for name in PROMISED} == PROMISED


@pytest.mark.parametrize("crash", [False, True], ids=["restart", "crash"])
def test_a_write_acknowledged_under_the_shipped_conf_survives_a_restart_of_redis(
    outside_docker: ShippedRedis, crash: bool
) -> None:
    outside_docker.start()
    assert outside_docker.client().set("nudge:{acme}:g:seats", "3")

    if crash:
        outside_docker.kill()
    else:
        outside_docker.stop()
    outside_docker.start()

    assert outside_docker.client().get("nudge:{acme}:g:seats") == "3"


def test_the_compose_redis_service_runs_the_shipped_conf_with_its_files_in_the_data_volume(
    binary: str, tmp_path: Path
) -> None:
    volume = tmp_path / "redis-data-volume"
    volume.mkdir()
    elsewhere = tmp_path / "workdir"
    elsewhere.mkdir()
    command = compose_redis_command(binary, {"redis-data": volume})
    assert str(SHIPPED_CONF) in command
    server = ShippedRedis(command, cwd=elsewhere, log=tmp_path / "redis.out")
    try:
        server.start()
        assert server.client().set("nudge:{acme}:g:seats", "3")

        assert Path(server.config("dir")) == volume
        assert server.config("appendonly") == "yes"
        assert any(entry.name.startswith("appendonly") for entry in volume.iterdir())
        assert list(elsewhere.iterdir()) == []
    finally:
        server.stop()
