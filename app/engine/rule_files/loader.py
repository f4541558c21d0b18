"""Load a rule set: the files of a rules directory, parsed, validated, merged and compiled.

`load_rules(sources)` is pure and reports every problem at once; `load_rules_dir`
adds the thin shell that reads the files (rules_dir.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from app.engine.model.rule_set import RuleSet
from app.engine.problems import Problem
from app.engine.rule_files.compiler import compile_rules, problems_in_raw
from app.engine.rule_files.lint import warnings_for
from app.engine.rule_files.rules_dir import RulesDirError, UnreadableRuleFiles, read_rules_dir
from app.engine.rule_files.schema import RuleFileSpec
from app.engine.rule_files.source import SourceDocument, parse_yaml
from app.engine.rule_files.validation_messages import describe_validation_error

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
