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
    text = core.read_text().replace(
        "  dashboards:   {type: gauge}\n",
        "  dashboards:   {type: gauge}\n  exports:      {type: gauge}\n",
        1,
    )
    # Reword the shipped rules' own warning (SPEC's "up to unlimited seats"): one remains.
    core.write_text(text.replace("for up to {upgrade_limit} seats.", "for more seats."))
    registry = RuleRegistry(rules_dir, Metrics())
    caplog.set_level(logging.WARNING, logger="app.services.rule_registry")

    live = await registry.reload(now=NOW)
    await registry.reload(now=NOW)  # the same version again: nothing new to say

    assert "exports" in live.rules.metrics
    assert registry.last_error is None
    [logged] = _warnings_logged(caplog)
    assert f"{core}:" in logged
    assert 'metric "exports" is not used by any trigger' in logged
