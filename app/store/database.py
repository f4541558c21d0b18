"""The SQL database: engine creation and migrations (Alembic)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from app.errors import StoreUnavailable


def normalize_url(url: str) -> str:
    """Pick the drivers we ship: psycopg 3 for PostgreSQL, the stdlib for SQLite."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_database_engine(url: str) -> Engine:
    normalized = normalize_url(url)
    parsed = make_url(normalized)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(normalized, connect_args={"timeout": 5})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(normalized, pool_pre_ping=True, pool_size=5, max_overflow=10)


def _sqlite_pragmas(connection: object, _record: object) -> None:
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("migrations")))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def check_reachable(engine: Engine) -> None:
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        raise StoreUnavailable(f"the database did not answer: {exc.__class__.__name__}") from exc
