"""Alembic migrations up and down on SQLite and PostgreSQL, from code, from the CLI and at start."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import Engine

from app.startup import StartupError
from app.store import database
from tests.conftest import NudgeFactory

REPO = Path(__file__).resolve().parents[2]
NUDGE_TABLES = {"accounts", "prompt_events", "rule_versions", "signals"}


@pytest.fixture
def engine(any_database_url: str) -> Iterator[Engine]:
    created = database.create_database_engine(any_database_url)
    yield created
    created.dispose()


@pytest.fixture
def postgres_url() -> str:
    """TEST_DATABASE_URL, emptied; the run fails in CI without it, and skips elsewhere."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TEST_DATABASE_URL is not set (CI must provide it)")
        pytest.skip("TEST_DATABASE_URL is not set")
    engine = database.create_database_engine(url)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("DROP SCHEMA public CASCADE"))
        connection.execute(sqlalchemy.text("CREATE SCHEMA public"))
    engine.dispose()
    return url


def tables(engine: Engine) -> set[str]:
    return set(sqlalchemy.inspect(engine).get_table_names())


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUDGE_") and k != "REDIS_URL"}
    env["DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_upgrade_to_head_creates_the_tables(engine: Engine) -> None:
    database.upgrade(engine)

    assert tables(engine) >= NUDGE_TABLES
    assert database.current_revision(engine) == database.head_revision(engine)
    columns = {c["name"] for c in sqlalchemy.inspect(engine).get_columns("prompt_events")}
    assert {
        "account_id",
        "user_id",
        "trigger_id",
        "type",
        "prompt_issued_at",
        "created_at",
    } <= columns
    indexes = {i["name"] for i in sqlalchemy.inspect(engine).get_indexes("prompt_events")}
    assert indexes == {"ix_prompt_events_account_created", "ix_prompt_events_trigger_type"}
    columns = {c["name"] for c in sqlalchemy.inspect(engine).get_columns("rule_versions")}
    assert {"version", "files", "triggers", "loaded_at"} <= columns
    unique = sqlalchemy.inspect(engine).get_unique_constraints("rule_versions")
    assert [u["column_names"] for u in unique] == [["version"]]


def test_the_signals_table_is_an_outbox_with_delivery_state(engine: Engine) -> None:
    database.upgrade(engine)
    inspector = sqlalchemy.inspect(engine)

    columns = {c["name"]: c for c in inspector.get_columns("signals")}
    assert set(columns) == {
        "seq",
        "id",
        "type",
        "account_id",
        "trigger_id",
        "plan",
        "usage",
        "fired_at",
        "delivery_state",
        "delivery_attempts",
        "next_attempt_at",
        "delivered_at",
        "last_error",
    }
    nullable = {name for name, column in columns.items() if column["nullable"]}
    assert nullable == {"next_attempt_at", "delivered_at", "last_error"}
    assert inspector.get_pk_constraint("signals")["constrained_columns"] == ["seq"]
    unique = inspector.get_unique_constraints("signals")
    assert [u["column_names"] for u in unique] == [["id"]]
    indexes = {
        i["name"]: i["column_names"]
        for i in inspector.get_indexes("signals")
        if not i.get("duplicates_constraint")  # PostgreSQL's index behind the unique id
    }
    assert indexes == {
        "ix_signals_type_fired": ["type", "fired_at"],
        "ix_signals_account_fired": ["account_id", "fired_at"],
        "ix_signals_delivery_due": ["delivery_state", "next_attempt_at"],
    }

    # A row written without delivery fields starts pending with no attempts.
    with engine.begin() as connection:
        for signal_id in ("a1", "a2"):
            connection.execute(
                sqlalchemy.text(
                    "INSERT INTO signals (id, type, account_id, trigger_id, plan, usage, fired_at)"
                    " VALUES (:id, 'pql', 'acme', 'seats-pql', 'free', '{}', CURRENT_TIMESTAMP)"
                ),
                {"id": signal_id},
            )
        rows = connection.execute(
            sqlalchemy.text(
                "SELECT seq, delivery_state, delivery_attempts FROM signals ORDER BY seq"
            )
        ).all()
    assert [(state, attempts) for _, state, attempts in rows] == [("pending", 0), ("pending", 0)]
    assert rows[0][0] < rows[1][0]
    with pytest.raises(sqlalchemy.exc.IntegrityError), engine.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "INSERT INTO signals (id, type, account_id, trigger_id, plan, usage, fired_at)"
                " VALUES ('a1', 'pql', 'acme', 'seats-pql', 'free', '{}', CURRENT_TIMESTAMP)"
            )
        )


def test_migrations_run_up_down_and_up_again(engine: Engine) -> None:
    database.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            sqlalchemy.text(
                "INSERT INTO accounts (account_id, plan, attributes, created_at, updated_at) "
                "VALUES ('acme', 'free', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )

    database.downgrade(engine, "base")
    assert not tables(engine) & NUDGE_TABLES
    assert database.current_revision(engine) is None

    database.upgrade(engine)
    assert tables(engine) >= NUDGE_TABLES
    with engine.connect() as connection:
        assert connection.execute(sqlalchemy.text("SELECT count(*) FROM accounts")).scalar() == 0


def test_migrations_step_one_revision_at_a_time(engine: Engine) -> None:
    database.upgrade(engine, "0001")
    assert tables(engine) & NUDGE_TABLES == {"accounts"}
    assert database.current_revision(engine) == "0001"

    database.upgrade(engine, "0002")
    assert tables(engine) & NUDGE_TABLES == {"accounts", "prompt_events"}

    database.upgrade(engine, "0003")
    assert tables(engine) & NUDGE_TABLES == {"accounts", "prompt_events", "rule_versions"}

    database.upgrade(engine, "0004")
    assert tables(engine) >= NUDGE_TABLES

    database.downgrade(engine, "0003")
    assert tables(engine) & NUDGE_TABLES == {"accounts", "prompt_events", "rule_versions"}
    database.downgrade(engine, "0002")
    assert tables(engine) & NUDGE_TABLES == {"accounts", "prompt_events"}
    database.downgrade(engine, "0001")
    assert tables(engine) & NUDGE_TABLES == {"accounts"}
    database.downgrade(engine, "base")
    assert not tables(engine) & NUDGE_TABLES


def test_the_cli_upgrades_and_downgrades_the_database_url(
    any_database_url: str, engine: Engine
) -> None:
    up = run_cli("db", "upgrade", database_url=any_database_url)
    assert up.returncode == 0, up.stderr
    assert up.stdout.strip() == f"database at {database.head_revision(engine)}"
    assert tables(engine) >= NUDGE_TABLES

    down = run_cli("db", "downgrade", "base", database_url=any_database_url)
    assert down.returncode == 0, down.stderr
    assert down.stdout.strip() == "database at base"
    assert not tables(engine) & NUDGE_TABLES


async def test_the_app_migrates_a_fresh_sqlite_database_at_start(
    nudge_app: NudgeFactory, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh' / 'nudge.db'}"

    async with nudge_app(database_url=url) as client:
        put = await client.put("/v1/accounts/acme", json={"plan": "team"})

    assert put.status_code == 200
    engine = database.create_database_engine(url)
    try:
        assert tables(engine) >= NUDGE_TABLES
        assert database.current_revision(engine) == database.head_revision(engine)
    finally:
        engine.dispose()


async def test_the_app_brings_an_older_sqlite_database_up_to_head(
    nudge_app: NudgeFactory, database_url: str
) -> None:
    engine = database.create_database_engine(database_url)
    try:
        database.upgrade(engine, "0001")

        async with nudge_app(database_url=database_url) as client:
            assert (await client.get("/readyz")).status_code == 200

        assert database.current_revision(engine) == database.head_revision(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize("revision", [None, "0001"])
async def test_the_app_refuses_a_postgresql_database_behind_head(
    nudge_app: NudgeFactory, postgres_url: str, revision: str | None
) -> None:
    engine = database.create_database_engine(postgres_url)
    try:
        if revision is not None:
            database.upgrade(engine, revision)

        with pytest.raises(StartupError, match="run `nudge db upgrade`") as refused:
            async with nudge_app(database_url=postgres_url):
                pass

        assert str(revision or "(none)") in str(refused.value)
        assert str(database.head_revision(engine)) in str(refused.value)
        # it did not migrate behind the operator's back
        assert database.current_revision(engine) == revision
    finally:
        engine.dispose()


async def test_the_app_starts_on_a_postgresql_database_at_head(
    nudge_app: NudgeFactory, postgres_url: str
) -> None:
    engine = database.create_database_engine(postgres_url)
    try:
        database.upgrade(engine)
    finally:
        engine.dispose()

    async with nudge_app(database_url=postgres_url) as client:
        put = await client.put("/v1/accounts/acme", json={"plan": "team"})
        got = await client.get("/v1/accounts/acme")

    assert put.status_code == 200
    assert got.json()["plan"] == "team"
