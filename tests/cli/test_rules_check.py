"""`nudge rules check [DIR]`: exit 0 with a one-line summary, or exit 1 with every error located."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.nudge_cli import REPO, SHIPPED_RULES, line_of


def _nudge_script() -> str | None:
    beside_python = Path(sys.executable).parent / "nudge"
    return str(beside_python) if beside_python.exists() else shutil.which("nudge")


def _as_module(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "-m", "app.cli", *args], env)


def _as_script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = _nudge_script()
    if script is None:
        pytest.skip("the nudge console script is not installed")
    return _run([script, *args], env)


def _run(command: list[str], env: dict[str, str] | None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "NUDGE_RULES_DIR"}
    environment.update(env or {})
    return subprocess.run(
        command, capture_output=True, text=True, cwd=REPO, env=environment, timeout=60, check=False
    )


Nudge = Callable[..., subprocess.CompletedProcess[str]]
HOW = pytest.mark.parametrize("nudge", [_as_module, _as_script], ids=["python-m", "script"])


def _written_trigger_count(directory: Path) -> int:
    """Triggers as the files write them, counted without the engine."""
    files = [*directory.glob("*.yaml"), *directory.glob("*.yml")]
    return sum(len(re.findall(r"^\s*- id:", f.read_text(), re.MULTILINE)) for f in files)


@pytest.fixture
def broken_rules(tmp_path: Path) -> Path:
    """The shipped rules with one typo: `threshhold` in the first trigger of core.yaml."""
    target = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, target)
    core = target / "core.yaml"
    core.write_text(core.read_text().replace("threshold: 80%", "threshhold: 80%", 1))
    return target


@HOW
def test_shipped_rules_pass_with_a_one_line_summary(nudge: Nudge) -> None:
    done = nudge("rules", "check", str(SHIPPED_RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    [summary] = done.stdout.splitlines()  # no warning line before it
    triggers = _written_trigger_count(SHIPPED_RULES)
    assert triggers >= 6  # seats, API cap (80% and 100%), dashboards, history
    assert f"4 metrics, 3 plans, {triggers} triggers" in summary
    assert "warning" not in summary


def test_without_dir_the_rules_folder_is_checked() -> None:
    done = _as_module("rules", "check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 metrics, 3 plans" in done.stdout


def test_without_dir_nudge_rules_dir_is_checked(broken_rules: Path) -> None:
    done = _as_module("rules", "check", env={"NUDGE_RULES_DIR": str(broken_rules)})
    assert done.returncode == 1
    assert str(broken_rules / "core.yaml") in done.stdout


@HOW
def test_typo_fails_with_its_file_line_and_column(nudge: Nudge, broken_rules: Path) -> None:
    done = nudge("rules", "check", str(broken_rules))
    assert done.returncode == 1
    core = broken_rules / "core.yaml"
    line = line_of(core, "threshhold: 80%")
    expected = f'{core}:{line}:5: trigger "seats-almost-full": unknown key "threshhold"; did you'
    assert any(printed.startswith(expected) for printed in done.stdout.splitlines())
    assert "error(s)" in done.stderr


def test_every_error_in_the_files_is_printed_on_its_own_line(broken_rules: Path) -> None:
    api = broken_rules / "api.yaml"
    api.write_text(api.read_text().replace("cooldown: 12h", "cooldown: 12 hours"))
    history = broken_rules / "history.yaml"
    history.write_text(history.read_text().replace("style: toast", "style: popup"))
    done = _as_module("rules", "check", str(broken_rules))
    assert done.returncode == 1
    core = broken_rules / "core.yaml"
    located = [line.split(": ", 1)[0] for line in done.stdout.splitlines()]
    assert located == [
        f"{api}:{line_of(api, 'cooldown: 12 hours')}:5",
        f"{core}:{line_of(core, 'threshhold')}:5",  # one mistake: not also "threshold missing"
        f"{history}:{line_of(history, 'style: popup')}:7",
    ]
    assert "3 error(s)" in done.stderr


def test_every_reference_error_is_printed_on_its_own_line(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(SHIPPED_RULES, rules)
    history = rules / "history.yaml"
    history.write_text(history.read_text().replace("{limit} days", "{limt} days"))
    dashboards = rules / "dashboards.yaml"
    dashboards.write_text(dashboards.read_text().replace("metric: dashboards", "metric: boards"))
    done = _as_module("rules", "check", str(rules))
    assert done.returncode == 1
    assert [line.split(": ", 1)[0] for line in done.stdout.splitlines()] == [
        f"{dashboards}:{line_of(dashboards, 'metric: boards')}:5",
        f"{history}:{line_of(history, '{limt} days')}:7",
    ]


def test_missing_dir_fails_and_says_which(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    done = _as_module("rules", "check", str(missing))
    assert done.returncode == 1
    assert str(missing) in done.stdout
    assert "does not exist" in done.stdout
