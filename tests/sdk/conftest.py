"""The SDK is tested against `nudge serve` running as a real process on a free port.

The service uses the suite's redis-server (`redis_url`), SQLite in the test's temp dir
and a copy of the example rules. Tests stop, restart, freeze and thaw it, and stop
the Redis under it, the way an outage would.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from nudge_sdk import AsyncNudgeClient, NudgeClient

from app.embedded_redis import free_port
from tests.conftest import API_KEY, EXAMPLE_RULES, SIGNING_SECRET
from tests.support.service import Service, service_environment


@pytest.fixture
def service(redis_url: str, tmp_path: Path) -> Iterator[Service]:
    shutil.copytree(EXAMPLE_RULES, tmp_path / "rules")
    env = service_environment(workdir=tmp_path, redis_url=redis_url, rules_dir=tmp_path / "rules")
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
