"""The rule-file format as data: what one YAML file may contain.

These models check shape and types only (unknown keys, required keys, value
forms); references between files and placeholders are checked by the compiler,
which sees the whole merged rule set.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
)

from app.engine.durations import parse_duration

METRIC_OR_PLAN_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
TRIGGER_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")

MetricType = Literal["gauge", "counter"]
Window = Literal["hour", "day", "week", "month"]
Style = Literal["banner", "modal", "inline", "toast"]


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


Name = Annotated[StrictStr, AfterValidator(_name)]
TriggerId = Annotated[StrictStr, AfterValidator(_trigger_id)]
Duration = Annotated[StrictStr, AfterValidator(_duration)]
Limit = Annotated[float, BeforeValidator(_limit)]
Threshold = Annotated[float | str, BeforeValidator(_threshold)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MetricSpec(_Strict):
    type: MetricType
    window: Window | None = None
    description: StrictStr | None = None


class PlanSpec(_Strict):
    limits: dict[Name, Limit] = Field(default_factory=dict)
    upgrade_to: Name | None = None
    description: StrictStr | None = None


class CtaSpec(_Strict):
    label: StrictStr
    url: StrictStr


class PromptSpec(_Strict):
    style: Style = "banner"
    title: StrictStr
    body: StrictStr | None = None
    cta: CtaSpec | None = None


class TriggerSpec(_Strict):
    id: TriggerId
    metric: Name
    threshold: Threshold
    priority: StrictInt = 0
    cooldown: Duration = "1d"
    placements: list[StrictStr] | None = None
    plans: list[Name] | None = None
    prompt: PromptSpec
    description: StrictStr | None = None


class RuleFileSpec(_Strict):
    """One rule file. Every section is optional; files merge into one rule set."""

    metrics: dict[Name, MetricSpec] = Field(default_factory=dict)
    default_plan: Name | None = None
    plans: dict[Name, PlanSpec] = Field(default_factory=dict)
    triggers: list[TriggerSpec] = Field(default_factory=list)
