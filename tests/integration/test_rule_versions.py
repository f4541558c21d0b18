"""Every rule set version that goes live is recorded in SQL, once, with its files' hashes."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from app.errors import StoreUnavailable
from app.observability import Metrics
from app.services.rule_registry import RuleRegistry
from app.store import database
from app.store.rule_versions import RuleFileDigest, RuleVersionRecord, RuleVersionStore
from tests.conftest import NudgeFactory
from tests.support.clock import FakeClock


@pytest.fixture
def engine(any_database_url: str) -> Iterator[Engine]:
    created = database.create_database_engine(any_database_url)
    database.upgrade(created)  # PostgreSQL is migrated by the operator, not at start
    yield created
    created.dispose()


def digests(rules_dir: Path) -> list[RuleFileDigest]:
    return [
        RuleFileDigest(path=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
        for path in sorted(rules_dir.glob("*.y*ml"))
    ]


def edit(rules_dir: Path, old: str, new: str) -> None:
    core = rules_dir / "core.yaml"
    core.write_text(core.read_text().replace(old, new))


async def test_each_version_that_goes_live_is_recorded_once(
    nudge_app: NudgeFactory,
    any_database_url: str,
    engine: Engine,
    rules_dir: Path,
    clock: FakeClock,
) -> None:
    versions = RuleVersionStore(engine)
    started_at = clock.now
    async with nudge_app(database_url=any_database_url) as client:
        first = (await client.get("/v1/rules")).json()["version"]
        clock.advance(minutes=5)
        assert (await client.post("/v1/rules/reload")).status_code == 200  # unchanged
        edit(rules_dir, '"Your team is full"', '"No seats left"')
        second = (await client.post("/v1/rules/reload")).json()["version"]
        second_files = digests(rules_dir)
    clock.advance(minutes=5)
    async with nudge_app(database_url=any_database_url) as client:  # a restart
        assert (await client.get("/v1/rules")).json()["version"] == second

    recorded = await versions.list_versions()

    assert [r.version for r in recorded] == [first, second]
    assert recorded[0].loaded_at == started_at
    assert recorded[1].loaded_at == started_at + timedelta(minutes=5)  # not the restart's
    assert list(recorded[1].files) == second_files
    assert {f.path for f in recorded[1].files} == {
        "api.yaml",
        "core.yaml",
        "dashboards.yaml",
        "history.yaml",
        "signals.yaml",
    }
    assert recorded[1].triggers == 7


async def test_a_watched_edit_is_recorded_and_a_broken_one_is_not(
    nudge_app: NudgeFactory, database_url: str, rules_dir: Path
) -> None:
    async with nudge_app(
        database_url=database_url, rules_watch=True, rules_debounce_ms=50
    ) as client:
        first = (await client.get("/v1/rules")).json()["version"]

        (rules_dir / "broken.yaml").write_text("triggers: [{id: x, metric: nope}]\n")
        await _until(client, lambda body: body["last_error"] is not None)
        (rules_dir / "broken.yaml").unlink()
        edit(rules_dir, "priority: 20", "priority: 21")
        body = await _until(client, lambda body: body["version"] != first)
        # A version goes live first and is recorded a moment later (a slow database
        # never delays a reload), so the row is waited for, not read once.
        recorded = await _recorded_versions(database_url, at_least=2)

    assert recorded == [first, body["version"]]


async def _until(
    client: httpx.AsyncClient, holds: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    for _ in range(250):  # 5 s at most: real file events take real time
        body: dict[str, Any] = (await client.get("/v1/rules")).json()
        if holds(body):
            return body
        await asyncio.sleep(0.02)
    pytest.fail("the rules watcher did not pick up the edit within 5 s")


async def _recorded_versions(database_url: str, *, at_least: int) -> list[str]:
    """The recorded versions, once there are `at_least` of them (5 s at most)."""
    engine = database.create_database_engine(database_url)
    try:
        for _ in range(250):
            recorded = [r.version for r in await RuleVersionStore(engine).list_versions()]
            if len(recorded) >= at_least:
                return recorded
            await asyncio.sleep(0.02)
    finally:
        engine.dispose()
    pytest.fail(f"{at_least} versions were not recorded within 5 s: {recorded}")


async def test_processes_recording_the_same_version_at_once_keep_one_row(
    engine: Engine,
) -> None:
    record = RuleVersionRecord(
        version="0123456789abcdef",
        files=(RuleFileDigest(path="core.yaml", sha256="ab" * 32),),
        triggers=2,
        loaded_at=datetime(2026, 11, 26, 9, 30, tzinfo=UTC),
    )
    stores = [RuleVersionStore(engine) for _ in range(4)]

    inserted = await asyncio.gather(*(store.record(record) for store in stores))

    assert sorted(inserted) == [False, False, False, True]
    assert await stores[0].list_versions() == [record]


class FlakyVersions(RuleVersionStore):
    """A version store whose database is down until `up` is set."""

    up = False

    async def record(self, record: RuleVersionRecord) -> bool:
        if not self.up:
            raise StoreUnavailable("the database did not answer: OperationalError")
        return await super().record(record)


async def test_a_database_that_does_not_answer_never_fails_a_reload(
    database_url: str, rules_dir: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    engine = database.create_database_engine(database_url)
    database.upgrade(engine)
    try:
        versions = FlakyVersions(engine)
        registry = RuleRegistry(rules_dir, Metrics(), clock=clock, versions=versions)

        first = await registry.reload()
        edit(rules_dir, "priority: 20", "priority: 21")
        second = await registry.reload()

        assert registry.live is second
        assert "could not be recorded" in caplog.text
        assert await versions.list_versions() == []

        versions.up = True
        await registry.reload()  # unchanged files: the missed versions are recorded

        recorded = [r.version for r in await versions.list_versions()]
        assert recorded == [first.rules.version, second.rules.version]
    finally:
        engine.dispose()
