"""Load a rule set: the files of a rules directory, parsed, validated, merged and compiled.

`load_rules(sources)` is pure and reports every problem at once; `read_rules_dir`
is the thin shell that reads the files.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from app.engine.compiler import compile_rules, problems_in_raw
from app.engine.lint import warnings_for
from app.engine.model import RuleSet
from app.engine.problems import Problem
from app.engine.schema import RuleFileSpec
from app.engine.source import SourceDocument, parse_yaml
from app.engine.validation_messages import describe_validation_error

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

# A file with no YAML document (0 bytes, blanks, comments only) is most often a copy
# cut short; loading it as "nothing" would silently drop its triggers from the live set.
EMPTY = (
    "this rule file is empty (a copy cut short?); it would drop every trigger it held. "
    "Restore it, delete it, or write {} in it to keep it empty on purpose"
)
NOT_A_MAPPING = "a rule file must be a mapping of sections"


@dataclass(frozen=True)
class LoadResult:
    rules: RuleSet | None
    problems: tuple[Problem, ...]  # errors: any one means `rules` is None
    # (file name as hashed into the version, sha256 of its content), in sorted order;
    # set when the rules loaded, so that each live version can be recorded file by file.
    file_digests: tuple[tuple[str, str], ...] = ()
    # What probably does not do what its author meant (see lint.py); never blocks loading.
    warnings: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return self.rules is not None


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


def rules_version(sources: Mapping[str, str]) -> str:
    """A hash of the files' names and content: the same files give the same version."""
    digest = hashlib.sha256()
    for name in sorted(sources):
        for part in (name, sources[name]):
            encoded = part.encode()
            digest.update(len(encoded).to_bytes(8, "big"))
            digest.update(encoded)
    return digest.hexdigest()[:16]


def load_rules(
    sources: Mapping[str, str], *, version_names: Mapping[str, str] | None = None
) -> LoadResult:
    """Parse, validate, merge and compile `sources` (file name -> YAML text).

    `version_names` maps a file name to the name hashed into the version (its path
    relative to the rules directory), so the version does not depend on where the
    directory lies.
    """
    problems: list[Problem] = []
    documents: list[tuple[SourceDocument, RuleFileSpec]] = []
    if not sources:
        problems.append(Problem("(rules)", 1, 1, "no *.yaml or *.yml rule files found"))
        return LoadResult(None, tuple(problems))
    invalid: list[SourceDocument] = []  # parsed, but not valid: checked as raw data
    # The metrics every file names, for checking conditions when not all files compile;
    # None once a file cannot be parsed at all (what it defines is unknown).
    metric_names: set[str] | None = set()
    for file in sorted(sources):
        document, parse_problems = parse_yaml(file, sources[file])
        problems.extend(parse_problems)
        data = document.data
        if parse_problems or not isinstance(data, dict):
            if not parse_problems:
                problems.append(document.problem((), EMPTY if data is None else NOT_A_MAPPING))
            metric_names = None
            continue
        if metric_names is not None and isinstance(data.get("metrics"), dict):
            metric_names.update(str(name) for name in data["metrics"])
        try:
            spec = RuleFileSpec.model_validate(data)
        except ValidationError as exc:
            problems.extend(describe_validation_error(exc, document))
            invalid.append(document)
            continue
        documents.append((document, spec))
    for document in invalid:
        problems.extend(problems_in_raw(document, metric_names=metric_names))
    named = {(version_names or {}).get(f, f): text for f, text in sources.items()}
    rules, compile_problems = compile_rules(
        documents,
        version=rules_version(named),
        complete=not problems,
        metric_names=metric_names,
    )
    problems.extend(compile_problems)
    if rules is None:
        return LoadResult(None, tuple(sorted(problems)))
    digests = tuple(
        (name, hashlib.sha256(text.encode()).hexdigest()) for name, text in sorted(named.items())
    )
    return LoadResult(rules, (), file_digests=digests, warnings=tuple(warnings_for(rules)))


def load_rules_dir(directory: str | Path) -> LoadResult:
    """Read and load every rule file under `directory`."""
    root = Path(directory)
    try:
        sources = read_rules_dir(root)
    except RulesDirError as exc:
        return LoadResult(None, (Problem(str(root), 1, 1, str(exc)),))
    except UnreadableRuleFiles as exc:
        return LoadResult(None, tuple(exc.problems))
    except OSError as exc:  # the directory tree itself could not be walked
        return LoadResult(None, (Problem(str(root), 1, 1, f"cannot read rule files: {exc}"),))
    if not sources:
        return LoadResult(
            None, (Problem(str(root), 1, 1, f"no *.yaml or *.yml rule files found in {root}"),)
        )
    relative = {name: str(Path(name).relative_to(root)) for name in sources}
    return load_rules(sources, version_names=relative)
