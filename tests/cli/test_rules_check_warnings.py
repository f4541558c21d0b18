"""`nudge rules check`: warnings do not fail unless --strict; --format json for CI."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.nudge_cli import SHIPPED_RULES, line_of, run_nudge

# A trigger the shipped seats-almost-full (priority 10) always wins over, and a metric
# that no trigger uses.
SHADOWED = """
triggers:
  - id: seats-nearly-full
    metric: seats
    threshold: 80%
    prompt: {title: "Nearly full"}
"""


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return run_nudge("rules", "check", *args)


@pytest.fixture
def warned_rules(tmp_path: Path) -> Path:
    """The shipped rules plus a shadowed trigger and an unused metric: two warnings."""
    target = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, target)
    (target / "nearly.yaml").write_text(SHADOWED)
    core = target / "core.yaml"
    core.write_text(
        core.read_text().replace(
            "  dashboards:   {type: gauge}\n",
            "  dashboards:   {type: gauge}\n  exports:      {type: gauge}\n",
            1,
        )
    )
    return target


def _json(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def test_warnings_are_printed_located_and_do_not_fail(warned_rules: Path) -> None:
    done = _check(str(warned_rules))
    assert done.returncode == 0, done.stdout + done.stderr
    core, nearly = warned_rules / "core.yaml", warned_rules / "nearly.yaml"
    *warnings, summary = done.stdout.splitlines()
    assert warnings == [
        f'{core}:{line_of(core, "exports:")}:3: warning: metric "exports" is not used by '
        "any trigger: its usage is recorded but never prompts anyone; add a trigger on it, or "
        "remove it (and its limits) if nothing needs it",
        f"{nearly}:{line_of(nearly, '- id: seats-nearly-full')}:5: warning: trigger "
        f'"seats-nearly-full" is shadowed by "seats-almost-full" '
        f'({core}:{line_of(core, "- id: seats-almost-full")}): both fire on "seats" at 80% '
        "on plans free, team in placements global, members, where only one prompt per metric "
        'is shown and "seats-almost-full" wins (it has a higher priority), so '
        '"seats-nearly-full" is never shown there; give them different thresholds, plans or '
        "placements, or remove one",
    ]
    assert summary.startswith(f"{warned_rules}: ok: 5 metrics, 3 plans, 8 triggers (version ")
    assert summary.endswith("), 2 warnings")


def test_strict_fails_on_warnings(warned_rules: Path) -> None:
    done = _check(str(warned_rules), "--strict")
    assert done.returncode == 1
    assert len(done.stdout.splitlines()) == 2
    assert all(": warning: " in line for line in done.stdout.splitlines())
    assert "2 warnings" in done.stderr
    assert "--strict" in done.stderr


def test_strict_passes_clean_rules_with_the_usual_summary(warned_rules: Path) -> None:
    (warned_rules / "nearly.yaml").unlink()
    core = warned_rules / "core.yaml"
    core.write_text(core.read_text().replace("  exports:      {type: gauge}\n", ""))

    done = _check(str(warned_rules), "--strict")

    assert done.returncode == 0, done.stdout + done.stderr
    [summary] = done.stdout.splitlines()
    assert "warning" not in summary
    assert summary.startswith(f"{warned_rules}: ok: 4 metrics, 3 plans")


def test_json_lists_warnings_for_ci_and_passes_without_strict(warned_rules: Path) -> None:
    done = _check(str(warned_rules), "--format", "json")
    assert done.returncode == 0, done.stderr
    report = _json(done)
    assert report["ok"] is True
    assert isinstance(report["version"], str)
    assert report["errors"] == []
    assert [set(w) for w in report["warnings"]] == [
        {"file", "line", "column", "severity", "message"}
    ] * 2
    unused = report["warnings"][0]
    assert unused["file"] == str(warned_rules / "core.yaml")
    assert (unused["column"], unused["severity"]) == (3, "warning")
    assert unused["message"].startswith('metric "exports" is not used by any trigger')
    assert report["summary"] == {
        "errors": 0,
        "warnings": 2,
        "metrics": 5,
        "plans": 3,
        "triggers": 8,
    }


def test_json_with_strict_fails_on_warnings(warned_rules: Path) -> None:
    done = _check(str(warned_rules), "--format", "json", "--strict")
    assert done.returncode == 1
    assert _json(done)["ok"] is False
    assert len(_json(done)["warnings"]) == 2


def test_json_lists_every_error_and_fails(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, rules)
    core = rules / "core.yaml"
    core.write_text(core.read_text().replace("threshold: 80%", "threshhold: 80%", 1))
    done = _check(str(rules), "--format", "json")
    assert done.returncode == 1
    report = _json(done)
    assert (report["ok"], report["version"], report["warnings"]) == (False, None, [])
    assert report["errors"] == [
        {
            "file": str(core),
            "line": line_of(core, "threshhold"),
            "column": 5,
            "severity": "error",
            "message": report["errors"][0]["message"],
        },
    ]
    assert report["errors"][0]["message"].startswith(
        'trigger "seats-almost-full": unknown key "threshhold"; did you mean "threshold"?'
    )
    assert report["summary"]["errors"] == 1
    assert done.stderr == ""
