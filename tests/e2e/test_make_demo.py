"""`make demo` listens where `make run` does: the Nudge service on HOST:PORT, the demo web
app on DEMO_PORT (default PORT + 1). Run for real: make, run.py, the service, the demo."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from app.embedded_redis import free_port
from tests.conftest import REPO
from tests.support.redis_server import port_is_free, redis_server_binary

READY = re.compile(r"Plotline, the Nudge demo, is ready: (\S+)")
START_TIMEOUT = 60.0


def port_with_free_next() -> int:
    """A free port whose next port is free too (the demo's default is PORT + 1)."""
    for _ in range(50):
        port = free_port()
        if port < 65535 and port_is_free(port + 1):
            return port
    raise RuntimeError("no two free neighbouring ports on 127.0.0.1")


@dataclass
class MakeDemo:
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    output: list[str] = field(default_factory=list)

    def start(self, *variables: str) -> str:
        """`make demo VAR=value ...`; the demo's URL once it says it is ready."""
        self.process = subprocess.Popen(
            # -o: never reinstall .venv from a test; the suite runs inside it already.
            ["make", "--no-print-directory", "-o", ".venv/.installed-dev", "demo", *variables],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, stopped as a whole below
        )
        assert self.process.stdout is not None
        os.set_blocking(self.process.stdout.fileno(), False)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            while line := self.process.stdout.readline():
                self.output.append(line)
            match = READY.search("".join(self.output))
            if match:
                return match.group(1)
            if self.process.poll() is not None:
                raise AssertionError("make demo exited:\n" + "".join(self.output))
            time.sleep(0.05)
        raise AssertionError("make demo was not ready:\n" + "".join(self.output))

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # as Ctrl-C: run.py stops its service
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[MakeDemo]:
    if redis_server_binary() is None or shutil.which("make") is None:
        pytest.fail("make demo needs make and redis-server on PATH")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("NUDGE_") and key not in ("REDIS_URL", "DATABASE_URL")
    }
    env["NUDGE_DATA_DIR"] = str(tmp_path / "demo-data")  # not the checkout's var/
    env["PYTHONUNBUFFERED"] = "1"
    running = MakeDemo(env=env)
    yield running
    running.stop()


def test_make_demo_puts_the_service_on_port_and_the_web_app_on_the_next_port(
    demo: MakeDemo, tmp_path: Path
) -> None:
    port = port_with_free_next()

    url = demo.start("HOST=127.0.0.1", f"PORT={port}")

    assert url == f"http://127.0.0.1:{port + 1}"
    assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json()["status"] == "ready"
    assert httpx.get(url, timeout=5).status_code == 200
    # NUDGE_DATA_DIR holds all of the demo's data, its database too.
    assert (tmp_path / "demo-data" / "nudge.db").exists()


def test_demo_port_puts_the_web_app_on_a_port_of_its_own(demo: MakeDemo) -> None:
    port, demo_port = free_port(), free_port()
    while demo_port in (port, port + 1):  # a port that PORT + 1 cannot explain
        demo_port = free_port()

    url = demo.start(f"PORT={port}", f"DEMO_PORT={demo_port}")

    assert url == f"http://127.0.0.1:{demo_port}"
    assert httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).json()["status"] == "ready"
    assert httpx.get(url, timeout=5).status_code == 200
