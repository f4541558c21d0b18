"""The values a rule file writes: names, trigger ids, durations, limits and thresholds.

Each is a pydantic type with the check the loader runs and, for editors, the JSON
Schema that says the same (WithJsonSchema validates nothing).
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, StrictStr
from pydantic.json_schema import WithJsonSchema

from app.engine.durations import parse_duration

METRIC_OR_PLAN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TRIGGER_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
# What parse_duration accepts, for editors (the JSON Schema); the loader parses for real.
DURATION = r"^\s*\d+[mhdw]\s*$"


def _name(value: str) -> str:
    if not METRIC_OR_PLAN_NAME.match(value):
        raise ValueError(
            f'"{value}" is not a valid name: use lowercase letters, digits and _, '
            "starting with a letter"
        )
    return value


def _trigger_id(value: str) -> str:
    if not TRIGGER_ID.match(value):
        raise ValueError(
            f'"{value}" is not a valid trigger id: use lowercase letters, digits and -, '
            "starting with a letter or digit"
        )
    return value


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _span(value: str) -> str:
    if not parse_duration(value):
        raise ValueError(f'"{value}" is no time at all; write a span such as 30m, 12h or 7d')
    return value


def _is_number(value: object) -> bool:
    # YAML's .nan and .inf are floats, but no usage can be compared with them.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _limit(value: object) -> object:
    if not _is_number(value):
        raise ValueError(f"{value!r} is not a number; write a limit such as 10 or 2.5")
    if value < 0:  # type: ignore[operator]
        raise ValueError(f"{value} is negative; a limit is 0 or more")
    return value


def _threshold(value: object) -> object:
    if isinstance(value, str):
        if PERCENT.match(value) is None:
            raise ValueError(
                f'"{value}" is not a threshold: write a number (an absolute usage level) '
                "or a percentage of the plan's limit such as 80%"
            )
        return value
    if not _is_number(value):
        raise ValueError(
            f"{value!r} is not a threshold: write a number or a percentage such as 80%"
        )
    if value < 0:  # type: ignore[operator]
        raise ValueError(f"{value} is negative; a threshold is 0 or more")
    return value


Name = Annotated[
    StrictStr,
    AfterValidator(_name),
    WithJsonSchema({"type": "string", "pattern": METRIC_OR_PLAN_NAME.pattern}),
]
TriggerId = Annotated[
    StrictStr,
    AfterValidator(_trigger_id),
    WithJsonSchema({"type": "string", "pattern": TRIGGER_ID.pattern}),
]
Duration = Annotated[
    StrictStr, AfterValidator(_duration), WithJsonSchema({"type": "string", "pattern": DURATION})
]
# A duration that must be more than zero: a `for:` or a `per:` of 0 would mean nothing.
Span = Annotated[
    StrictStr, AfterValidator(_span), WithJsonSchema({"type": "string", "pattern": DURATION})
]
Limit = Annotated[float, BeforeValidator(_limit), WithJsonSchema({"type": "number", "minimum": 0})]
Threshold = Annotated[
    float | str,
    BeforeValidator(_threshold),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0},
                {"type": "string", "pattern": PERCENT.pattern},
            ]
        }
    ),
]
