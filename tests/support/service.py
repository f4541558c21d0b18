"""`nudge serve` as a real process on a free port, for tests that stop, restart, freeze or
kill the service under load, the way an outage would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.conftest import API_KEY, REPO, SIGNING_SECRET


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


# What the attacks' `start_service` fixture is: `start_service(redis_url=..., **env)`.
StartService = Callable[..., Service]


def service_environment(*, workdir: Path, redis_url: str, rules_dir: Path) -> dict[str, str]:
    """The environment of a service on `redis_url`, SQLite in `workdir` and `rules_dir`,
    with the suite's key and secret and none of the caller's own NUDGE_* settings."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("NUDGE_") and key not in ("REDIS_URL", "DATABASE_URL")
    }
    env.update(
        PYTHONPATH=str(REPO),
        REDIS_URL=redis_url,
        DATABASE_URL=f"sqlite:///{workdir / 'nudge.db'}",
        NUDGE_API_KEYS=API_KEY,
        NUDGE_SIGNING_SECRET=SIGNING_SECRET,
        NUDGE_RULES_DIR=str(rules_dir),
        NUDGE_RULES_WATCH="false",
        NUDGE_LOG_LEVEL="warning",
    )
    return env
