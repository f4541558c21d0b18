"""`nudge rules check` on a mistake in a `when:` condition: the located problem line, and the
condition's line with a caret under the spot, in text and in JSON."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.nudge_cli import SHIPPED_RULES, run_nudge

BAD_CONDITION = """\
triggers:
  - id: power-user
    when: dashboards >= 2 and seets >= 3
    prompt: {title: "You are a power user"}
"""
MESSAGE = (
    'trigger "power-user": "when": unknown name "seets"; did you mean "seats"? '
    "(metrics: api_calls, dashboards, history_days, seats; also plan, limit.<metric>, "
    "account.<attribute>)"
)


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return run_nudge("rules", "check", *args)


@pytest.fixture
def bad_rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, target)
    (target / "power.yaml").write_text(BAD_CONDITION)
    return target


def test_a_bad_condition_prints_its_location_and_a_caret_under_the_mistake(
    bad_rules: Path,
) -> None:
    result = _check(str(bad_rules))

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{bad_rules / 'power.yaml'}:3:31: {MESSAGE}",
        "    dashboards >= 2 and seets >= 3",
        "                        ^",
    ]
    assert "1 error(s)" in result.stderr


def test_json_output_carries_the_excerpt(bad_rules: Path) -> None:
    result = _check(str(bad_rules), "--format", "json")

    assert result.returncode == 1
    [error] = json.loads(result.stdout)["errors"]
    assert error == {
        "file": str(bad_rules / "power.yaml"),
        "line": 3,
        "column": 31,
        "severity": "error",
        "message": MESSAGE,
        "excerpt": "dashboards >= 2 and seets >= 3\n                    ^",
    }


def test_a_good_condition_loads_with_the_shipped_rules(tmp_path: Path) -> None:
    target = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, target)
    (target / "power.yaml").write_text(BAD_CONDITION.replace("seets", "seats"))

    result = _check(str(target))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stdout  # the shipped rules warn of nothing, nor does it
