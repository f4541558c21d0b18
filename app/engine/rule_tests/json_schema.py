"""The rule-test format as a JSON Schema, for the same editors as the rule-file schema.

`rule_tests_schema()` is what `nudge rules schema --tests` prints and what the
committed `schema/rule-tests.schema.json` holds, derived from the models of schema.py.
"""

from __future__ import annotations

from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from app.engine.rule_files.json_schema import DIALECT, EditorJsonSchema, as_committed
from app.engine.rule_tests.schema import RuleTestFileSpec

TESTS_TITLE = "Nudge rule tests"
TESTS_DESCRIPTION = (
    "One YAML file of rule tests under a rules directory's tests/ folder: cases that give an "
    "account's plan, usage, dismissals and a clock, and expect prompts and signals; run by "
    "`nudge rules test`. Generated from the models of app/engine/rule_tests/schema.py."
)


class _TestsJsonSchema(EditorJsonSchema):
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
    """The test-file schema as committed (see as_committed)."""
    return as_committed(rule_tests_schema())
