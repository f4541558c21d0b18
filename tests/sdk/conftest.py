"""The SDK is tested against `nudge serve` running as a real process on a free port.

The service uses the suite's redis-server (`redis_url`), SQLite in the test's temp dir
and a copy of the example rules. Tests stop, restart, freeze and thaw it, and stop
the Redis under it, the way an outage would.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from nudge_sdk import AsyncNudgeClient, NudgeClient

from tests.conftest import API_KEY, EXAMPLE_RULES, REPO, SIGNING_SECRET
from tests.support.redis_server import free_port


@dataclass
class Service:
    """`nudge serve` as a process; its output goes to a file, so it never blocks on a pipe."""

    workdir: Path
    port: int
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    starts: int = field(default=0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return (self.workdir / "nudge.log").read_text(errors="replace")

    def start(self, *, ready: bool = True, timeout: float = 30) -> None:
        """Starts it on its port; waits for /readyz (or only /healthz, with ready=False)."""
        self.starts += 1
        with (self.workdir / "nudge.log").open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        path = "/readyz" if ready else "/healthz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"nudge serve exited:\n{self.log}")
            try:
                if httpx.get(self.url + path, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"nudge serve did not get ready:\n{self.log}")

    def stop(self) -> None:
        assert self.process is not None
        self.thaw()
        self.process.terminate()
        self.process.wait(timeout=20)
        self.process = None

    def kill(self) -> None:
        """SIGKILL: a crash; whatever it had not answered is never answered."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=20)
        self.process = None

    def freeze(self) -> None:
        """SIGSTOP: connections are still accepted by the kernel, nothing is answered."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    def admin(self) -> httpx.Client:
        """A plain HTTP client with the secret key: how a test checks what the service holds."""
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {API_KEY}"}, timeout=5
        )

    def usage(self, account_id: str, metric: str) -> float:
        with self.admin() as http:
            answer = http.get(f"/v1/accounts/{account_id}")
        assert answer.status_code == 200, answer.text
        return float(answer.json()["usage"][metric]["value"])


@pytest.fixture
def service(redis_url: str, tmp_path: Path) -> Iterator[Service]:
    shutil.copytree(EXAMPLE_RULES, tmp_path / "rules")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("NUDGE_") and key not in ("REDIS_URL", "DATABASE_URL")
    }
    env.update(
        PYTHONPATH=str(REPO),
        REDIS_URL=redis_url,
        DATABASE_URL=f"sqlite:///{tmp_path / 'nudge.db'}",
        NUDGE_API_KEYS=API_KEY,
        NUDGE_SIGNING_SECRET=SIGNING_SECRET,
        NUDGE_RULES_DIR=str(tmp_path / "rules"),
        NUDGE_RULES_WATCH="false",
        NUDGE_LOG_LEVEL="warning",
    )
    served = Service(workdir=tmp_path, port=free_port(), env=env)
    try:
        served.start()
    except BaseException:
        if served.process is not None:  # never leave a half-started service behind
            served.process.kill()
            served.process.wait()
        raise
    yield served
    if served.process is not None:
        served.thaw()
        served.process.kill()
        served.process.wait()


@pytest.fixture
def nudge(service: Service) -> Iterator[Callable[..., NudgeClient]]:
    """`nudge(**options)`: a NudgeClient of the service, closed after the test."""
    clients: list[NudgeClient] = []

    def make(url: str | None = None, **options: Any) -> NudgeClient:
        options.setdefault("api_key", API_KEY)
        options.setdefault("signing_secret", SIGNING_SECRET)
        client = NudgeClient(url or service.url, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close(timeout=1)


@pytest.fixture
def async_nudge(service: Service) -> Callable[..., AsyncNudgeClient]:
    """`async_nudge(**options)`: an AsyncNudgeClient of the service (the test closes it)."""

    def make(url: str | None = None, **options: Any) -> AsyncNudgeClient:
        options.setdefault("api_key", API_KEY)
        options.setdefault("signing_secret", SIGNING_SECRET)
        return AsyncNudgeClient(url or service.url, **options)

    return make


def wait_until(condition: Callable[[], bool], *, timeout: float = 10, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or condition}")
        time.sleep(0.02)
