"""The JSON Schema of rule-test files, for editors: committed in sync, named by every
shipped test file, and in agreement with `nudge rules test` on what a test file holds."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from app.engine.rule_files.loader import load_rules_dir
from app.engine.rule_tests.json_schema import rule_tests_schema, rule_tests_schema_json
from app.engine.rule_tests.parsing import parse_rule_tests, read_rule_test_files

REPO = Path(__file__).resolve().parent.parent.parent
SCHEMA_FILE = REPO / "schema" / "rule-tests.schema.json"
SHIPPED_RULES = REPO / "rules"
SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")
REGENERATE = "nudge rules schema --tests --output schema/rule-tests.schema.json"

# yaml-language-server implements draft-07; the schema must mean the same to both.
VALIDATORS = pytest.mark.parametrize(
    "validator", [jsonschema.Draft202012Validator, jsonschema.Draft7Validator], ids=["2020-12", "7"]
)


class _EditorLoader(yaml.SafeLoader):
    """YAML as an editor's language server sees it: times are text, not datetimes."""


_EditorLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _as_editor_reads(text: str) -> Any:
    return yaml.load(text, Loader=_EditorLoader)  # a SafeLoader: safe


def _shipped_test_files() -> list[Path]:
    sources, problems = read_rule_test_files(SHIPPED_RULES)
    assert problems == []
    return [Path(name) for name in sources]


def _errors(validator: type[jsonschema.protocols.Validator], document: object) -> list[str]:
    return [error.message for error in validator(rule_tests_schema()).iter_errors(document)]


def test_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == rule_tests_schema_json(), (
        "schema/rule-tests.schema.json is out of date with app/engine/rule_tests/schema.py; "
        f"regenerate it with {REGENERATE} and commit it"
    )


def test_schema_is_a_valid_draft_2020_12_and_draft_7_schema() -> None:
    schema = rule_tests_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft7Validator.check_schema(schema)


def _object_schemas(node: object, path: str = "#") -> list[tuple[str, dict[str, Any]]]:
    found = []
    if isinstance(node, dict):
        if "properties" in node:
            found.append((path, node))
        for key, value in node.items():
            found += _object_schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _object_schemas(value, f"{path}/{index}")
    return found


def test_every_key_has_a_description_and_no_mapping_takes_unknown_keys() -> None:
    objects = _object_schemas(rule_tests_schema())
    assert len(objects) >= 6
    undescribed = [
        f"{path}/properties/{key}"
        for path, node in objects
        for key, field in node["properties"].items()
        if not field.get("description")
    ]
    assert undescribed == []
    assert [path for path, node in objects if node.get("additionalProperties") is not False] == []


def test_every_shipped_rule_test_file_is_checked() -> None:
    assert len(_shipped_test_files()) >= 3


@pytest.mark.parametrize("path", _shipped_test_files(), ids=lambda p: p.name)
def test_shipped_test_file_names_the_committed_schema_on_its_first_line(path: Path) -> None:
    named = SCHEMA_LINE.match(path.read_text(encoding="utf-8").splitlines()[0])
    assert named is not None, f"{path.name} must start with `# yaml-language-server: $schema=...`"
    assert (path.parent / named.group(1)).resolve() == SCHEMA_FILE


@VALIDATORS
@pytest.mark.parametrize("path", _shipped_test_files(), ids=lambda p: p.name)
def test_shipped_test_file_passes_the_schema(
    path: Path, validator: type[jsonschema.protocols.Validator]
) -> None:
    assert _errors(validator, _as_editor_reads(path.read_text(encoding="utf-8"))) == []


CASE = """\
tests:
  - name: a full team
    now: 2026-11-25T12:00:00Z
    plan: free
    usage: {seats: 3}
    dismissed: {seats-almost-full: 2026-11-24T12:00:00Z}
    expect:
      prompts:
        - trigger: seats-full
          style: modal
          body: "free includes 3 seats. Upgrade to team to invite more people."
"""

# Edits the test runner refuses that an editor can flag too.
BAD_EDITS = {
    "unknown key": ("    usage:", "    usge:"),
    "usage in words": ("{seats: 3}", "{seats: three}"),
    "style that does not exist": ("style: modal", "style: popup"),
    "expected prompt without trigger": (
        "        - trigger: seats-full\n          style",
        "        - style",
    ),
    "case without name": ("  - name: a full team\n    now", "  - now"),
    "trigger id with capitals": ("{seats-almost-full:", "{Seats-Almost-Full:"),
}
# Edits both accept.
GOOD_EDITS = {
    "as written": ("", ""),
    "no body expected": (
        'body: "free includes 3 seats. Upgrade to team to invite more people."',
        "body: null",
    ),
    "quoted time": ("now: 2026-11-25T12:00:00Z", 'now: "2026-11-25T12:00:00+01:00"'),
    "decimal usage": ("{seats: 3}", "{seats: 2.5}"),
}


def _rules() -> Any:
    rules = load_rules_dir(SHIPPED_RULES).rules
    assert rules is not None
    return rules


@VALIDATORS
@pytest.mark.parametrize("case", BAD_EDITS)
def test_schema_rejects_what_the_test_runner_rejects(
    case: str, validator: type[jsonschema.protocols.Validator]
) -> None:
    old, new = BAD_EDITS[case]
    assert old in CASE
    text = CASE.replace(old, new, 1)
    assert parse_rule_tests("t.yaml", text, rules=_rules())[1] != []
    assert _errors(validator, _as_editor_reads(text)) != []


@VALIDATORS
@pytest.mark.parametrize("case", GOOD_EDITS)
def test_schema_accepts_what_the_test_runner_accepts(
    case: str, validator: type[jsonschema.protocols.Validator]
) -> None:
    old, new = GOOD_EDITS[case]
    text = CASE.replace(old, new, 1)
    assert parse_rule_tests("t.yaml", text, rules=_rules())[1] == []
    assert _errors(validator, _as_editor_reads(text)) == []
