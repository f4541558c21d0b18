"""`served`: `nudge serve` as a real process on the embedded default (no REDIS_URL), in the
test's temp dir with a copy of the example rules (tests/support/served_nudge.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.embedded_redis import free_port
from tests.conftest import EXAMPLE_RULES
from tests.support.redis_server import redis_server_binary
from tests.support.served_nudge import ServedNudge


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
