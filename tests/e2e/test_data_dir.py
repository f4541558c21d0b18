"""`NUDGE_DATA_DIR` moves everything the embedded default keeps: its Redis and its SQLite
database. Two services started in one folder with two data directories share nothing."""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.embedded_redis import free_port
from tests.support.served_nudge import NUDGE, ServedNudge

KEY = r"secret key:\s+(\S+)"


def accounts_in(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT account_id, plan FROM accounts").fetchall()


@pytest.fixture
def second(served: ServedNudge) -> Iterator[ServedNudge]:
    """Another `nudge serve` in the same folder, with the same environment."""
    other = ServedNudge(workdir=served.workdir, port=free_port(), env=dict(served.env))
    yield other
    if other.process is not None and other.process.poll() is None:
        other.process.kill()
        other.process.wait()


def test_two_services_with_their_own_data_dirs_keep_their_own_databases(
    served: ServedNudge, second: ServedNudge
) -> None:
    served.env["NUDGE_DATA_DIR"] = "instance-a"
    second.env["NUDGE_DATA_DIR"] = "instance-b"
    served.start()
    second.start()

    with served.client(served.wait_for(KEY)) as http:
        assert http.put("/v1/accounts/acme", json={"plan": "team"}).status_code == 200
    with second.client(second.wait_for(KEY)) as http:
        assert http.put("/v1/accounts/globex", json={"plan": "free"}).status_code == 200
        assert http.get("/v1/accounts/acme").json()["plan"] == "free"  # never PUT here

    workdir = served.workdir
    assert accounts_in(workdir / "instance-a" / "nudge.db") == [("acme", "team")]
    assert accounts_in(workdir / "instance-b" / "nudge.db") == [("globex", "free")]
    assert not (workdir / "var").exists()


def test_nudge_db_upgrade_migrates_the_database_in_nudge_data_dir(served: ServedNudge) -> None:
    env = {**served.env, "NUDGE_DATA_DIR": str(served.workdir / "elsewhere")}

    result = subprocess.run(
        [*NUDGE, "db", "upgrade"],
        cwd=served.workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert (served.workdir / "elsewhere" / "nudge.db").exists()
    assert not (served.workdir / "var").exists()
