"""A rules directory mounted from a Kubernetes ConfigMap loads as its visible files: once
each, with the same version as the same files in a plain folder."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from app.engine.rule_files.loader import load_rules_dir
from app.engine.rule_files.rules_dir import read_rules_dir
from tests.support.configmap import publish

EXAMPLE_RULES = Path(__file__).resolve().parents[2] / "rules"


def example_files() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(EXAMPLE_RULES.glob("*.yaml"))}


def test_a_configmap_mount_loads_each_file_once_through_its_visible_name(tmp_path: Path) -> None:
    publish(tmp_path / "rules", example_files())

    result = load_rules_dir(tmp_path / "rules")

    assert result.problems == ()
    assert sorted(Path(name).name for name in read_rules_dir(tmp_path / "rules")) == sorted(
        example_files()
    )
    assert all(
        not Path(name).parent.name.startswith(".") for name in read_rules_dir(tmp_path / "rules")
    )


def test_a_configmap_mount_has_the_version_of_the_same_files_in_a_folder(tmp_path: Path) -> None:
    publish(tmp_path / "mounted", example_files())
    plain = tmp_path / "plain"
    plain.mkdir()
    for name, text in example_files().items():
        (plain / name).write_text(text)

    mounted, copied = load_rules_dir(tmp_path / "mounted").rules, load_rules_dir(plain).rules

    assert mounted is not None and copied is not None
    assert mounted.version == copied.version


def test_after_an_update_the_new_files_load_and_the_old_are_gone(tmp_path: Path) -> None:
    files = example_files()
    publish(tmp_path / "rules", files)
    before = load_rules_dir(tmp_path / "rules").rules
    files["core.yaml"] = files["core.yaml"].replace("Your team is full", "The team is full")
    del files["history.yaml"]

    publish(tmp_path / "rules", files)

    after = load_rules_dir(tmp_path / "rules").rules
    assert before is not None and after is not None
    assert after.version != before.version
    assert "The team is full" in {t.prompt.title.source for t in after.triggers if t.prompt}
    assert not any("history" in t.id for t in after.triggers)


def test_hidden_files_and_folders_are_never_rule_files(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(EXAMPLE_RULES, rules)
    (rules / ".draft.yaml").write_text("this: is [not loaded\n")
    (rules / ".git").mkdir()
    (rules / ".git" / "core.yaml").write_text((rules / "core.yaml").read_text())

    result = load_rules_dir(rules)

    assert result.problems == ()


def test_an_update_landing_between_two_files_reads_never_mixes_two_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mounted = tmp_path / "rules"
    old = {"a.yaml": "# version 1\n", "b.yaml": "# version 1\n"}
    new = {"a.yaml": "# version 2\n", "b.yaml": "# version 2\n"}
    publish(mounted, old)
    read_text = Path.read_text
    updates = [new]

    def read_then_update(path: Path, *args: Any, **kwargs: Any) -> str:
        text = read_text(path, *args, **kwargs)
        if path.name == "a.yaml" and updates:
            publish(mounted, updates.pop())  # the kubelet swaps ..data right after a.yaml
        return text

    monkeypatch.setattr(Path, "read_text", read_then_update)

    read = read_rules_dir(mounted)

    assert sorted(read.values()) == ["# version 2\n", "# version 2\n"]
