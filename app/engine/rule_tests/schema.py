"""The rule-test format as data: what one file under a rules directory's `tests/` may contain.

These models check shape and types only (unknown keys, required keys, value forms,
times); what the names refer to (triggers, metrics, plans) is checked against the
loaded rule set by checks.py.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictStr
from pydantic.json_schema import WithJsonSchema

from app.engine.rule_files.value_types import TRIGGER_ID
from app.engine.vocabulary import PROMPT_STYLES, PromptStyle, spelled_out

# The clock of a case that gives no `now`: fixed, so that a test means the same every day.
DEFAULT_NOW = datetime(2026, 1, 1, tzinfo=UTC)

_TIME_EXAMPLE = "2026-11-25T12:00:00Z"


def _timestamp(value: object) -> datetime:
    # YAML reads an unquoted 2026-11-25T12:00:00Z as a datetime, a quoted one as text.
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                f'"{value}" is not a time; write one such as {_TIME_EXAMPLE} (Z for UTC)'
            ) from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(
                f"{value.isoformat()} has no time zone; add Z for UTC, as in {_TIME_EXAMPLE}"
            )
        return value.astimezone(UTC)
    if isinstance(value, date):
        raise ValueError(
            f"{value.isoformat()} is a day without a time; write a time too, "
            f"as in {value.isoformat()}T00:00:00Z"
        )
    raise ValueError(f"{value!r} is not a time; write one such as {_TIME_EXAMPLE} (Z for UTC)")


def _number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        shown = f'"{value}"' if isinstance(value, str) else repr(value)
        raise ValueError(f"{shown} is not a number; write one such as 3 or 2.5")
    return value


# WithJsonSchema only says, for editors, what the validators check; it validates nothing.
Timestamp = Annotated[
    datetime,
    BeforeValidator(_timestamp),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
Number = Annotated[float, BeforeValidator(_number), WithJsonSchema({"type": "number"})]
TriggerRef = Annotated[StrictStr, WithJsonSchema({"type": "string", "pattern": TRIGGER_ID.pattern})]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The descriptions are what an editor shows on hover (see json_schema.py).
class ImpressionSpec(_Strict):
    """A `shown` event: the prompt of `trigger` was shown at `at`."""

    trigger: TriggerRef = Field(description="The trigger whose prompt was shown")
    at: Timestamp = Field(description="When, such as 2026-11-25T09:00:00Z")


class CtaExpect(_Strict):
    """The call to action the prompt must have; a key left out is not compared."""

    label: StrictStr | None = Field(None, description="The rendered button text")
    url: StrictStr | None = Field(None, description="The rendered link")


class PromptExpect(_Strict):
    """One prompt the case expects; only the keys given are compared."""

    trigger: TriggerRef = Field(description="The trigger whose prompt this is")
    style: PromptStyle | None = Field(None, description=spelled_out(PROMPT_STYLES))
    title: StrictStr | None = Field(None, description="The rendered title")
    body: StrictStr | None = Field(None, description="The rendered body")
    cta: CtaExpect | None = Field(None, description="The rendered call to action: {label, url}")
    metric: StrictStr | None = Field(None, description="The trigger's metric")
    usage: Number | None = Field(None, description="The account's usage of that metric")
    limit: Number | None = Field(None, description="The plan's limit of that metric")
    plan: StrictStr | None = Field(None, description="The account's plan")
    upgrade_plan: StrictStr | None = Field(None, description="The plan's upgrade_to")


class ExpectSpec(_Strict):
    """What the case expects; give prompts, signals or both (what is left out is not checked)."""

    prompts: list[PromptExpect] | None = Field(
        None,
        description="The prompts the user gets, in display order; [] for none",
    )
    signals: list[TriggerRef] | None = Field(
        None,
        description="The triggers whose signal (signal: pql) fires for the account, in any "
        "order; [] for none",
    )
    shadowed: list[TriggerRef] | None = Field(
        None,
        description="The shadow-mode triggers that would have been shown (counted in "
        "nudge_prompts_shadowed_total), in any order; [] for none",
    )


class CaseSpec(_Strict):
    """One rule test: an account and user at a moment, and what they should get."""

    name: StrictStr = Field(description="What the case shows, in words; unique in its file")
    now: Timestamp | None = Field(
        None, description="The clock, such as 2026-11-25T12:00:00Z; default 2026-01-01T00:00:00Z"
    )
    plan: StrictStr | None = Field(None, description="The account's plan; default: default_plan")
    removed_plan: bool = Field(
        False,
        description="true: `plan` is a plan the rules no longer have, on purpose (such an "
        "account gets no prompts); without it, a plan not in the rules is an error",
    )
    attributes: dict[StrictStr, Any] = Field(
        default_factory=dict,
        description="The account's attributes, as PUT /v1/accounts/{id} sets them",
        json_schema_extra={"default": {}},
    )
    usage: dict[StrictStr, Number] = Field(
        default_factory=dict,
        description="Metric -> usage: a gauge's level, a counter's count in its current "
        "window; a metric left out is 0",
        json_schema_extra={"default": {}},
    )
    user: StrictStr | None = Field(
        None, description="The user asking (dismissed and shown are this user's); for reading"
    )
    placement: StrictStr | None = Field(
        None, description="The page asking (GET /v1/prompts?placement=); default: none, so all"
    )
    dismissed: dict[TriggerRef, Timestamp] = Field(
        default_factory=dict,
        description="Trigger -> when this user dismissed its prompt",
        json_schema_extra={"default": {}},
    )
    shown: list[ImpressionSpec] = Field(
        default_factory=list,
        description="Prompts shown to this user before now (for max_impressions and caps)",
        json_schema_extra={"default": []},
    )
    account_shown: list[ImpressionSpec] = Field(
        default_factory=list,
        description="Prompts shown to the account's other users (for account caps); with "
        "`shown`, the account's impressions",
        json_schema_extra={"default": []},
    )
    held_since: dict[TriggerRef, Timestamp] = Field(
        default_factory=dict,
        description="Trigger with `for:` -> since when its threshold and condition hold",
        json_schema_extra={"default": {}},
    )
    expect: ExpectSpec = Field(description="What the user should get: prompts, signals or both")


class RuleTestFileSpec(_Strict):
    """One rule-test file: a list of cases."""

    tests: list[CaseSpec] = Field(description="The cases, each run on its own")
