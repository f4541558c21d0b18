"""Request and response bodies of the v1 API, as the OpenAPI document shows them."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)

from app.identifiers import ID_REGEX

MAX_EVENTS = 1000

AccountId = Annotated[str, Field(pattern=ID_REGEX, examples=["acme"])]
UserId = Annotated[str, Field(pattern=ID_REGEX, examples=["u_42"])]


def _json_kind(value: object) -> str:
    """How JSON calls the type of a parsed value, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return f"the string {json.dumps(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _json_number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a JSON number, not {_json_kind(value)}")
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _rfc3339(value: object) -> object:
    if value is None:  # an explicit null is the same as no timestamp: now
        return value
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 string such as 2026-11-25T10:00:00Z")
    return value


def _event_id(value: object) -> object:
    if not isinstance(value, str) or not value or len(value) > 256:
        raise ValueError("must be a string of 1-256 characters that names this event uniquely")
    if any(ord(char) < 33 or ord(char) == 127 for char in value):
        raise ValueError("must not contain spaces or control characters")
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UsageEventIn(_Body):
    id: Annotated[str, BeforeValidator(_event_id)] = Field(
        description="Unique per account; a repeated id is counted once.", examples=["evt_01"]
    )
    account_id: AccountId
    metric: str = Field(examples=["seats"])
    value: Annotated[float, BeforeValidator(_json_number)] = 1
    op: Literal["incr", "set"] = "incr"
    timestamp: Annotated[AwareDatetime | None, BeforeValidator(_rfc3339)] = Field(
        default=None, description="RFC 3339 with a time zone; default: now."
    )


class UsageBatchIn(_Body):
    events: list[UsageEventIn] = Field(max_length=MAX_EVENTS)


class UsageBatchOut(BaseModel):
    accepted: int
    duplicates: int


MAX_ATTRIBUTES_BYTES = 16 * 1024


def _small_attributes(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # Attributes are mirrored into Redis and read on every prompt request: keep them small.
    if value is not None and len(json.dumps(value)) > MAX_ATTRIBUTES_BYTES:
        raise ValueError(
            f"attributes are over {MAX_ATTRIBUTES_BYTES // 1024} KiB as JSON; "
            "keep to the few facts rules and reports need"
        )
    return value


class AccountIn(_Body):
    plan: str | None = Field(default=None, examples=["team"])
    attributes: Annotated[dict[str, Any] | None, AfterValidator(_small_attributes)] = Field(
        default=None,
        description="Replace the stored attributes (at most 16 KiB as JSON).",
        examples=[{"industry": "retail"}],
    )


class UsageOut(BaseModel):
    value: int | float
    limit: int | float | None = Field(description="null where the plan has no limit")
    window: Literal["hour", "day", "week", "month"] | None = Field(
        default=None, description="Counters only: the calendar window (UTC)"
    )
    resets_at: datetime | None = Field(default=None, description="Counters only: when it resets")


class AccountOut(BaseModel):
    account_id: str
    plan: str
    attributes: dict[str, Any]
    usage: dict[str, UsageOut]
    created_at: datetime | None
    updated_at: datetime | None


class CtaOut(BaseModel):
    label: str
    url: str


class PromptOut(BaseModel):
    id: str = Field(description="Opaque and signed; report events with it for 7 days.")
    trigger: str
    metric: str | None = Field(description="Null for a trigger with only a `when:` condition.")
    usage: int | float | None = Field(description="The metric's usage; null without a metric.")
    limit: int | float | None
    plan: str
    upgrade_plan: str | None
    style: Literal["banner", "modal", "inline", "toast"]
    title: str
    body: str | None
    cta: CtaOut | None


class PromptsOut(BaseModel):
    prompts: list[PromptOut]
    degraded: bool = Field(
        default=False,
        description="True when Redis was slow or down: no prompts, and the host page goes on.",
    )


class PromptQuery(BaseModel):
    """The query of GET /v1/prompts (unknown parameters, such as cache busters, are ignored)."""

    account_id: AccountId | None = Field(
        default=None, description="Required with a secret key; a client token decides it."
    )
    user_id: UserId | None = Field(
        default=None, description="Omit for the account's anonymous user."
    )
    placement: str | None = Field(
        default=None, min_length=1, max_length=64, description="Where the prompt would show."
    )


class PromptEventIn(_Body):
    type: Literal["shown", "clicked", "dismissed", "converted"]


class AcceptedOut(BaseModel):
    status: Literal["accepted"] = "accepted"


class RuleErrorOut(BaseModel):
    at: datetime
    message: str
    details: list[dict[str, Any]]


class RulesOut(BaseModel):
    version: str
    loaded_at: datetime
    default_plan: str
    metrics: dict[str, Any]
    plans: dict[str, Any]
    triggers: list[dict[str, Any]]
    last_error: RuleErrorOut | None


class ReloadOut(BaseModel):
    version: str
    loaded_at: datetime


class ErrorDetail(BaseModel):
    message: str
    field: str | None = None
    index: int | None = None
    file: str | None = None
    line: int | None = None
    column: int | None = None
    excerpt: str | None = Field(
        default=None,
        description="For a mistake in a `when:` condition: its line and a ^ under the spot.",
    )


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail]


class ErrorOut(BaseModel):
    error: ErrorBody
