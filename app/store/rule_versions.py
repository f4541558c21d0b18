"""The record of rule set versions that went live, in SQL.

Several processes (uvicorn workers, replicas) load the same files and record the
same version, and a restart records it again: the insert is "if absent", decided by
the database (ON CONFLICT DO NOTHING on the unique version), so no race can
duplicate a row and the first `loaded_at` stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.store.sql_calls import in_thread
from app.store.sql_models import RuleVersionRow


@dataclass(frozen=True, slots=True)
class RuleFileDigest:
    path: str  # relative to the rules directory
    sha256: str


@dataclass(frozen=True, slots=True)
class RuleVersionRecord:
    version: str
    files: tuple[RuleFileDigest, ...]
    triggers: int
    loaded_at: datetime  # the first time any process made this version live


class RuleVersionStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def record(self, record: RuleVersionRecord) -> bool:
        """Record a version that went live, unless it is recorded already; True if new."""
        values = {
            "version": record.version,
            "files": [{"path": f.path, "sha256": f.sha256} for f in record.files],
            "triggers": record.triggers,
            "loaded_at": record.loaded_at,
        }

        def run() -> bool:
            # Both dialects Nudge supports have INSERT ... ON CONFLICT DO NOTHING. PostgreSQL
            # reports what it inserted through RETURNING (its rowcount is not set then);
            # SQLite through rowcount (RETURNING needs SQLite 3.35).
            with self._engine.begin() as connection:
                if self._engine.dialect.name == "postgresql":
                    statement = (
                        postgresql.insert(RuleVersionRow)
                        .values(**values)
                        .on_conflict_do_nothing(index_elements=["version"])
                        .returning(RuleVersionRow.id)
                    )
                    return connection.execute(statement).first() is not None
                ignore = (
                    sqlite.insert(RuleVersionRow)
                    .values(**values)
                    .on_conflict_do_nothing(index_elements=["version"])
                )
                return connection.execute(ignore).rowcount == 1

        return await in_thread(run, "recording the rule set version")

    async def list_versions(self) -> list[RuleVersionRecord]:
        """Every recorded version, the first to go live first."""

        def run() -> list[RuleVersionRecord]:
            with Session(self._engine) as session:
                rows = session.scalars(select(RuleVersionRow).order_by(RuleVersionRow.id))
                return [_record(row) for row in rows]

        return await in_thread(run, "reading the rule set versions")


def _record(row: RuleVersionRow) -> RuleVersionRecord:
    return RuleVersionRecord(
        version=row.version,
        files=tuple(RuleFileDigest(path=f["path"], sha256=f["sha256"]) for f in row.files),
        triggers=row.triggers,
        # SQLite hands back naive datetimes; everything Nudge stores is UTC.
        loaded_at=row.loaded_at if row.loaded_at.tzinfo else row.loaded_at.replace(tzinfo=UTC),
    )
