"""`nudge rules schema [--output FILE]`: the committed JSON Schema, printed or written."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.nudge_cli import REPO, run_nudge

COMMITTED = REPO / "schema" / "rules.schema.json"


def test_schema_is_printed_as_the_committed_json() -> None:
    done = run_nudge("rules", "schema")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["title"] == "Nudge rule file"
    assert done.stdout == COMMITTED.read_text(encoding="utf-8")


def test_output_writes_the_schema_to_the_file(tmp_path: Path) -> None:
    target = tmp_path / "rules.schema.json"
    done = run_nudge("rules", "schema", "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert target.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")


def test_output_to_a_missing_folder_fails_and_names_the_file(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "rules.schema.json"
    done = run_nudge("rules", "schema", "--output", str(target))
    assert done.returncode == 2
    assert str(target) in done.stderr
    assert not target.exists()
