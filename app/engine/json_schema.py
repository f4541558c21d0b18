"""The rule-file format as a JSON Schema, for editors: derived from the loader's own models.

`rule_file_schema()` is what `nudge rules schema` prints and what the committed
`schema/rules.schema.json` holds; a rule file that names it on its first line
(`# yaml-language-server: $schema=...`) gets completion and checks in editors.
The loader stays the judge: the schema cannot see across files (references,
names defined twice, placeholders), so it catches shape errors only.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from app.engine.rule_test_schema import RuleTestFileSpec
from app.engine.schema import RuleFileSpec

DIALECT = "https://json-schema.org/draft/2020-12/schema"
TITLE = "Nudge rule file"
DESCRIPTION = (
    "One YAML file of a Nudge rules directory: metrics, plans, default_plan and triggers. "
    "Every section is optional; the files of a directory merge into one rule set. "
    "Generated from the loader's models by `nudge rules schema`."
)


class _EditorJsonSchema(GenerateJsonSchema):
    """Pydantic's generator, adjusted for what editors show."""

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        # Pydantic writes a map with patterned keys as patternProperties, which lets any
        # other key through; name the key pattern and forbid other keys instead, so that an
        # editor flags `Seats:` as a bad name.
        json_schema = super().dict_schema(schema)
        patterns: dict[str, Any] | None = json_schema.pop("patternProperties", None)
        if patterns:
            [(pattern, values)] = patterns.items()
            json_schema["propertyNames"] = {"pattern": pattern}
            json_schema["additionalProperties"] = values
        return json_schema

    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        # An optional key is left out, not written as null; without the `null` branch an
        # editor points at the mistake inside the value (`prompt.style`), not at the key.
        return self.generate_inner(schema["schema"])

    def field_title_should_be_set(self, schema: Any) -> bool:
        # A title would only repeat the key ("Upgrade To"); the description says more.
        return False


def rule_file_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one rule file."""
    generated = RuleFileSpec.model_json_schema(schema_generator=_EditorJsonSchema)
    return {**generated, "$schema": DIALECT, "title": TITLE, "description": DESCRIPTION}


def rule_file_schema_json() -> str:
    """The schema as committed: sorted keys, 2-space indent, a trailing newline."""
    return json.dumps(rule_file_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# Rule-test files (rules/tests/*.yaml), for the same editors.
TESTS_TITLE = "Nudge rule tests"
TESTS_DESCRIPTION = (
    "One YAML file of rule tests under a rules directory's tests/ folder: cases that give an "
    "account's plan, usage, dismissals and a clock, and expect prompts and signals; run by "
    "`nudge rules test`. Generated from the models of app/engine/rule_test_schema.py."
)


class _TestsJsonSchema(_EditorJsonSchema):
    def nullable_schema(self, schema: core_schema.NullableSchema) -> JsonSchemaValue:
        # In a test, null is an expectation (`body: null`: the prompt has no body), and the
        # test loader reads a null elsewhere as the key left out: keep null allowed.
        return GenerateJsonSchema.nullable_schema(self, schema)


def rule_tests_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one rule-test file."""
    generated = RuleTestFileSpec.model_json_schema(schema_generator=_TestsJsonSchema)
    return {
        **generated,
        "$schema": DIALECT,
        "title": TESTS_TITLE,
        "description": TESTS_DESCRIPTION,
    }


def rule_tests_schema_json() -> str:
    """The test-file schema as committed, in the form of rule_file_schema_json."""
    return json.dumps(rule_tests_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
