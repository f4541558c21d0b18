"""The JSON Schema for editors: committed in sync, named by every example file, and in
agreement with the loader on what a rule file may contain."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from app.engine.rule_files.json_schema import rule_file_schema, rule_file_schema_json
from app.engine.rule_files.loader import load_rules
from app.engine.rule_files.rules_dir import read_rules_dir
from tests.support.rule_sets import RULE_SETS

REPO = Path(__file__).resolve().parent.parent.parent
SCHEMA_FILE = REPO / "schema" / "rules.schema.json"
SHIPPED_RULES = REPO / "rules"
SPEC_CORE = RULE_SETS / "loader" / "spec_core.good.yaml"
SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$")

# yaml-language-server implements draft-07; the schema must mean the same to both.
VALIDATORS = pytest.mark.parametrize(
    "validator", [jsonschema.Draft202012Validator, jsonschema.Draft7Validator], ids=["2020-12", "7"]
)


def _example_files() -> list[Path]:
    """The files the loader reads from the shipped rules directory."""
    return [Path(name) for name in read_rules_dir(SHIPPED_RULES)]


def _schema_errors(
    validator: type[jsonschema.protocols.Validator], document: object
) -> list[jsonschema.ValidationError]:
    return list(validator(rule_file_schema()).iter_errors(document))


def test_committed_schema_is_the_generated_one() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == rule_file_schema_json(), (
        "schema/rules.schema.json is out of date with app/engine/rule_files/schema.py; "
        "regenerate it with `nudge rules schema --output schema/rules.schema.json` and commit it"
    )


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = rule_file_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft7Validator.check_schema(schema)


def _object_schemas(node: object, path: str = "#") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        if "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from _object_schemas(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _object_schemas(value, f"{path}/{index}")


def test_every_key_has_a_description_for_the_editor_to_show() -> None:
    undescribed = [
        f"{path}/properties/{key}"
        for path, node in _object_schemas(rule_file_schema())
        for key, field in node["properties"].items()
        if not field.get("description")
    ]
    assert undescribed == [], "add Field(description=...) in app/engine/rule_files/schema.py"


def test_every_mapping_forbids_unknown_keys_as_the_loader_does() -> None:
    open_mappings = [
        path
        for path, node in _object_schemas(rule_file_schema())
        if node.get("additionalProperties") is not False
    ]
    assert open_mappings == []


@pytest.mark.parametrize("path", _example_files(), ids=lambda p: p.name)
def test_example_rule_file_names_the_committed_schema_on_its_first_line(path: Path) -> None:
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    named = SCHEMA_LINE.match(first_line)
    assert named is not None, f"{path.name} must start with `# yaml-language-server: $schema=...`"
    assert (path.parent / named.group(1)).resolve() == SCHEMA_FILE


def test_every_shipped_rule_file_is_checked() -> None:
    assert len(_example_files()) >= 4


@VALIDATORS
@pytest.mark.parametrize("path", [*_example_files(), SPEC_CORE], ids=lambda p: p.name)
def test_example_rule_file_passes_the_schema(
    path: Path, validator: type[jsonschema.protocols.Validator]
) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert [error.message for error in _schema_errors(validator, document)] == []


SPEC_CORE_TEXT = SPEC_CORE.read_text(encoding="utf-8")

# Edits of the SPEC core example the loader refuses -> where the schema must point
# (the JSON path of the offending value, or of the mapping that holds a bad key).
BAD_EDITS: dict[str, tuple[str, str, str]] = {
    "unknown key threshhold": ("threshold: 80%", "threshhold: 80%", "$.triggers[0]"),
    "counter window year": ("window: month", "window: year", "$.metrics.api_calls.window"),
    "style popup": ("style: modal", "style: popup", "$.triggers[1].prompt.style"),
    "metric name Seats": ("\n  seats:", "\n  Seats:", "$.metrics"),
    "negative limit": ("{seats: 3,", "{seats: -1,", "$.plans.free.limits.seats"),
    "threshold in words": ("threshold: 100%", "threshold: 100 percent", "$.triggers[1].threshold"),
    "negative threshold": ("threshold: 100%", "threshold: -1", "$.triggers[1].threshold"),
    "cooldown in words": ("cooldown: 3d", "cooldown: 3 days", "$.triggers[0].cooldown"),
    "trigger id with capitals": ("id: seats-full", "id: Seats-Full", "$.triggers[1].id"),
    "plan name with a dash": ("upgrade_to: team", "upgrade_to: team-a", "$.plans.free.upgrade_to"),
    "prompt without title": ('      title: "Your team is full"\n', "", "$.triggers[1].prompt"),
    "metric without threshold": ("    threshold: 100%\n", "", "$.triggers[1]"),
    "threshold without metric": (
        "    metric: seats\n    threshold: 100%",
        "    threshold: 100%",
        "$.triggers[1]",
    ),
    "neither metric nor when": ("    metric: seats\n    threshold: 100%\n", "", "$.triggers[1]"),
    "metric and when without threshold": (
        "    threshold: 100%\n",
        '    when: "seats >= 3"\n',
        "$.triggers[1]",
    ),
    "when that is not text": (
        "    threshold: 100%\n",
        "    threshold: 100%\n    when: 3\n",
        "$.triggers[1].when",
    ),
}


@VALIDATORS
@pytest.mark.parametrize("case", BAD_EDITS)
def test_schema_rejects_what_the_loader_rejects(
    case: str, validator: type[jsonschema.protocols.Validator]
) -> None:
    old, new, where = BAD_EDITS[case]
    assert old in SPEC_CORE_TEXT
    text = SPEC_CORE_TEXT.replace(old, new, 1)
    assert not load_rules({"core.yaml": text}).ok

    errors = _schema_errors(validator, yaml.safe_load(text))

    assert where in {error.json_path for error in errors}, [e.message for e in errors]


# Values the loader accepts that a schema could easily get too strict about.
GOOD_EDITS: dict[str, tuple[str, str]] = {
    "decimal percentage": ("threshold: 80%", "threshold: 12.5%"),
    "quoted percentage with spaces": ("threshold: 80%", 'threshold: " 80 %"'),
    "absolute threshold": ("threshold: 80%", "threshold: 1"),
    "zero threshold": ("threshold: 80%", "threshold: 0"),
    "decimal limit": ("{seats: 3,", "{seats: 2.5,"),
    "zero limit": ("{seats: 3,", "{seats: 0,"),
    "cooldown in minutes": ("cooldown: 3d", "cooldown: 30m"),
    "cooldown in weeks": ("cooldown: 3d", "cooldown: 2w"),
    "negative priority": ("priority: 10", "priority: -5"),
    "trigger id starting with a digit": ("id: seats-full", "id: 2fa-gate"),
    "metric name with digits": ("api_calls", "api_calls_v2"),
    "when beside metric and threshold": (
        "    threshold: 100%\n",
        "    threshold: 100%\n    when: \"dashboards >= 2 and plan in ['free']\"\n",
    ),
    "when alone": (
        "    metric: seats\n    threshold: 100%\n    priority: 20\n    prompt:\n"
        '      style: modal\n      title: "Your team is full"\n'
        '      body: "{plan} includes {limit} seats.',
        '    when: |\n      seats >= 3\n        and account.industry == "retail"\n'
        '    priority: 20\n    prompt:\n      style: modal\n      title: "Your team is full"\n'
        '      body: "{plan} is full.',
    ),
}


@VALIDATORS
@pytest.mark.parametrize("case", GOOD_EDITS)
def test_schema_accepts_what_the_loader_accepts(
    case: str, validator: type[jsonschema.protocols.Validator]
) -> None:
    old, new = GOOD_EDITS[case]
    assert old in SPEC_CORE_TEXT
    text = SPEC_CORE_TEXT.replace(old, new)
    assert load_rules({"core.yaml": text}).ok

    assert [error.message for error in _schema_errors(validator, yaml.safe_load(text))] == []


def test_printed_schema_is_sorted_pretty_json() -> None:
    text = rule_file_schema_json()
    assert text.endswith("}\n")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
