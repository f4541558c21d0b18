"""The attacks Nudge was put through from outside, as its own tests: a real `nudge serve`
process, real Redis (killed, black-holed), real HTTP load, bounded in time and count."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.embedded_redis import free_port
from tests.conftest import EXAMPLE_RULES
from tests.support.service import Service, StartService, service_environment


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[StartService]:
    """`start_service(redis_url=..., rules_dir=None, **env)`: a running `nudge serve`."""
    started: list[Service] = []

    def start(*, redis_url: str, rules_dir: Path | None = None, **env: str) -> Service:
        if rules_dir is None:
            rules_dir = tmp_path / "rules"
            shutil.copytree(EXAMPLE_RULES, rules_dir)
        environment = service_environment(
            workdir=tmp_path, redis_url=redis_url, rules_dir=rules_dir
        )
        environment.update(env)
        service = Service(workdir=tmp_path, port=free_port(), env=environment)
        started.append(service)
        service.start()
        return service

    yield start
    for service in started:
        if service.process is not None:
            service.thaw()
            service.process.kill()
            service.process.wait()
