"""Read a rules directory: which files are rule files, and their text.

Rule files are the *.yaml and *.yml files under the directory, outside its top-level
`tests/` folder (rule tests) and outside hidden entries; a Kubernetes ConfigMap mount
is read so that an update landing mid-read is never half seen.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from app.engine.problems import Problem

RULE_SUFFIXES = (".yaml", ".yml")
TESTS_FOLDER = "tests"
# A Kubernetes ConfigMap volume holds each file twice (a dated `..2026_…` folder, and a
# symlink per file through `..data`, which is swapped atomically on an update); entries
# whose name starts with "." are never rule files, so only the visible symlinks are read.
HIDDEN_PREFIX = "."
# The symlink a ConfigMap volume swaps atomically to publish new content. Each visible
# file is opened through it, so an update landing between two files' reads would mix
# two versions: such a read is done again, up to MAX_READS times.
CONFIGMAP_DATA = "..data"
MAX_READS = 5


class RulesDirError(Exception):
    """The rules directory itself cannot be read (missing, not a directory)."""


class UnreadableRuleFiles(Exception):
    """Some rule files cannot be read; each problem names its file."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


def is_yaml_file_name(relative: Path) -> bool:
    """Whether a path, relative to the folder being read, names a *.yaml or *.yml file
    outside any hidden entry."""
    return relative.suffix in RULE_SUFFIXES and not any(
        part.startswith(HIDDEN_PREFIX) for part in relative.parts
    )


def is_rule_file_name(relative: Path) -> bool:
    """Whether a path, relative to the rules directory, names a rule file: a YAML file
    outside the top-level `tests/` folder (which holds rule tests)."""
    return is_yaml_file_name(relative) and relative.parts[0] != TESTS_FOLDER


def read_rules_dir(directory: str | Path) -> dict[str, str]:
    """Every rule file under `directory` (recursively, in sorted path order), by path.

    Files under the directory's top-level `tests/` folder hold rule tests and are left
    out, and so is every entry whose name starts with "." (see HIDDEN_PREFIX).
    """
    root = Path(directory)
    if not root.is_dir():
        raise RulesDirError(
            f"rules directory {str(root)!r} does not exist or is not a directory; "
            "set NUDGE_RULES_DIR to the folder that holds your *.yaml rule files"
        )
    for _ in range(MAX_READS):
        published = _published(root)
        sources, unreadable = read_yaml_files(
            root, "rule file", skip=lambda path: not is_rule_file_name(path.relative_to(root))
        )
        if _published(root) == published:
            break  # no ConfigMap update landed while the files were read
    if unreadable:
        raise UnreadableRuleFiles(unreadable)
    return sources


def _published(root: Path) -> str | None:
    """The folder the `..data` symlink of a ConfigMap mount points at; None outside one."""
    try:
        return os.readlink(root / CONFIGMAP_DATA)
    except OSError:
        return None


def read_yaml_files(
    root: Path, what: str, *, skip: Callable[[Path], bool] = lambda _path: False
) -> tuple[dict[str, str], list[Problem]]:
    """Every *.yaml / *.yml file under `root` (recursively, in sorted path order, leaving
    out entries whose name starts with ".") that `skip` keeps, by path; a file that
    cannot be read is a problem naming why."""
    sources: dict[str, str] = {}
    unreadable: list[Problem] = []
    for path in sorted(root.rglob("*")):
        if not is_yaml_file_name(path.relative_to(root)) or not path.is_file() or skip(path):
            continue
        try:
            sources[str(path)] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            reason = f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"
            unreadable.append(Problem(str(path), 1, 1, f"cannot read this {what}: {reason}"))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            unreadable.append(Problem(str(path), 1, 1, f"cannot read this {what}: {reason}"))
    return sources, unreadable
