"""Fixtures shared by the whole suite.

- `redis_server`: a real redis-server this suite started (session-wide), flushed per test.
- `database_url`: SQLite in a temp dir; `any_database_url` also runs on PostgreSQL when
  TEST_DATABASE_URL names one (and fails, never skips, in CI when it does not).
- `nudge`: a factory that starts the app (its lifespan too) and returns an httpx client.

A run with skipped tests ends with one line saying why and how to run them
(tests/support/skip_summary.py).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy

from app.main import create_app
from app.settings import Settings, load_settings
from tests.support.clock import FakeClock
from tests.support.redis_server import RedisServer, redis_server_binary
from tests.support.skip_summary import pytest_terminal_summary  # noqa: F401 - a hook

REPO = Path(__file__).resolve().parent.parent
EXAMPLE_RULES = REPO / "rules"
API_KEY = "test-secret-key-0123456789"
SIGNING_SECRET = "test-signing-secret-0123456789-abcdefghijklmnop"
IN_CI = bool(os.environ.get("CI"))
# The prompt path's Redis budget in tests. The product's 50 ms default is a bound a busy
# 2-core machine can exceed now and then, and a prompt answer then is degraded (right for
# the product, a flake for a test asserting prompts). Tests of the budget set their own.
TEST_REDIS_TIMEOUT_MS = 1000


def _missing(reason: str) -> None:
    """A missing backing service fails the run in CI and skips (loudly) elsewhere."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must provide it)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if redis_server_binary() is None:
        _missing("redis-server is not on PATH")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    if redis_server.process is None:  # a test stopped it and did not bring it back
        redis_server.start()
    redis_server.resume()
    redis_server.client().flushall()
    return redis_server.url


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'nudge.db'}"


def _reset_postgres(url: str) -> None:
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("DROP SCHEMA public CASCADE"))
        connection.execute(sqlalchemy.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'nudge.db'}"
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        _missing("TEST_DATABASE_URL is not set")
    assert url is not None
    _reset_postgres(url)
    return url


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """A writable copy of the example rules (tests may edit it)."""
    target = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, target)
    return target


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings_for(
    redis_url: str, database_url: str, rules_dir: Path, tmp_path: Path
) -> Callable[..., Settings]:
    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "redis_url": redis_url,
            "database_url": database_url,
            "rules_dir": rules_dir,
            "api_keys": API_KEY,
            "signing_secret": SIGNING_SECRET,
            "data_dir": tmp_path / "var",
            "redis_timeout_ms": TEST_REDIS_TIMEOUT_MS,
            # Tests reload explicitly; the watcher's own tests turn it on.
            "rules_watch": False,
        }
        values.update(overrides)
        return load_settings(**values)

    return build


NudgeFactory = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def nudge_app(settings_for: Callable[..., Settings], clock: FakeClock) -> NudgeFactory:
    """`async with nudge_app(**setting_overrides) as client:` runs a real app in-process."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings_for(**overrides), clock=clock)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport,
                base_url="http://nudge.test",
                headers={"Authorization": f"Bearer {API_KEY}"},
            ) as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return start


@pytest.fixture
async def client(nudge_app: NudgeFactory) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app on the example rules, authenticated with a secret key."""
    async with nudge_app() as http:
        yield http
