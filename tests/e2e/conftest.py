"""Run `nudge serve` as a real process, the way the README's first command does."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLE_RULES
from tests.support.redis_server import free_port, redis_server_binary

NUDGE = [sys.executable, "-m", "app.cli"]


@dataclass
class ServedNudge:
    workdir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, command: list[str] | None = None, timeout: float = 30) -> None:
        self.output.clear()
        self.process = subprocess.Popen(
            command or [*NUDGE, "serve", "--port", str(self.port)],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        os.set_blocking(self.process.stdout.fileno(), False)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._drain()
            if any("Application startup complete" in line for line in self.output):
                return
            if self.process.poll() is not None:
                self._drain()
                raise AssertionError("nudge serve exited:\n" + "".join(self.output))
            time.sleep(0.05)
        raise AssertionError("nudge serve did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while chunk := self.process.stdout.readline():
            self.output.append(chunk)

    def printed(self, pattern: str) -> str:
        self._drain()
        match = re.search(pattern, "".join(self.output))
        assert match, f"{pattern!r} not in output:\n{''.join(self.output)}"
        return match.group(1)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=20)
        self._drain()
        return code

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=5
        )


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedNudge]:
    if redis_server_binary() is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not on PATH (CI must provide it)")
        pytest.skip("redis-server is not on PATH")
    shutil.copytree(EXAMPLE_RULES, tmp_path / "rules")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("NUDGE_") and key not in ("REDIS_URL", "DATABASE_URL")
    }
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    nudge = ServedNudge(workdir=tmp_path, port=free_port(), env=env)
    yield nudge
    if nudge.process is not None and nudge.process.poll() is None:
        nudge.process.kill()
        nudge.process.wait()
