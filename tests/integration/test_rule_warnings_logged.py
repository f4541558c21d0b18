"""Rule warnings never block the service: the set goes live and each warning is logged once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.observability import Metrics
from app.services.rule_registry import RuleRegistry

NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)


def _warnings_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING and "warning:" in record.getMessage()
    ]


async def test_rules_with_a_warning_go_live_and_log_it_once(
    rules_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    core = rules_dir / "core.yaml"
    core.write_text(
        core.read_text().replace(
            "  dashboards:   {type: gauge}\n",
            "  dashboards:   {type: gauge}\n  exports:      {type: gauge}\n",
            1,
        )
    )
    registry = RuleRegistry(rules_dir, Metrics(), clock=lambda: NOW)
    caplog.set_level(logging.WARNING, logger="app.services.rule_registry")

    live = await registry.reload()
    await registry.reload()  # the same version again: nothing new to say

    assert "exports" in live.rules.metrics
    assert registry.last_error is None
    [logged] = _warnings_logged(caplog)
    assert f"{core}:" in logged
    assert 'metric "exports" is not used by any trigger' in logged


async def test_the_shipped_rules_go_live_without_a_warning(
    rules_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # What a first `make run` logs: the example rules read well on every plan.
    registry = RuleRegistry(rules_dir, Metrics(), clock=lambda: NOW)
    caplog.set_level(logging.WARNING, logger="app.services.rule_registry")

    await registry.reload()

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
