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

from app.engine.rule_files.schema import RuleFileSpec

DIALECT = "https://json-schema.org/draft/2020-12/schema"
TITLE = "Nudge rule file"
DESCRIPTION = (
    "One YAML file of a Nudge rules directory: metrics, plans, default_plan and triggers. "
    "Every section is optional; the files of a directory merge into one rule set. "
    "Generated from the loader's models by `nudge rules schema`."
)


class EditorJsonSchema(GenerateJsonSchema):
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
    generated = RuleFileSpec.model_json_schema(schema_generator=EditorJsonSchema)
    return {**generated, "$schema": DIALECT, "title": TITLE, "description": DESCRIPTION}


def rule_file_schema_json() -> str:
    """The schema as committed (see as_committed)."""
    return as_committed(rule_file_schema())


def as_committed(schema: dict[str, Any]) -> str:
    """A schema as the files under schema/ hold it: sorted keys, 2-space indent, a
    trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
