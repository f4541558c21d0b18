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

from app.engine import (
    SIGNAL_TYPES,
    CounterWindow,
    Outcome,
    PromptEventType,
    PromptStyle,
    SignalType,
    UsageOp,
)
from app.identifiers import ID_REGEX
from app.services.signal_feed import ACCOUNT_SIGNALS, InvalidCursor, decode_cursor

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
    op: UsageOp = "incr"
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
    window: CounterWindow | None = Field(
        default=None, description="Counters only: the calendar window (UTC)"
    )
    resets_at: datetime | None = Field(default=None, description="Counters only: when it resets")


class DeliveryOut(BaseModel):
    state: Literal["pending", "delivered", "failed"] = Field(
        description="Reserved for webhook delivery; every signal is pending until then."
    )
    attempts: int = Field(description="Delivery attempts made so far.")
    delivered_at: datetime | None


class SignalOut(BaseModel):
    id: str = Field(description="A UUID; the idempotency key webhook receivers will see.")
    type: SignalType
    account_id: str
    trigger: str = Field(description="The trigger that fired.")
    plan: str = Field(description="The account's plan when it fired.")
    usage: dict[str, int | float | None] = Field(
        description="Every metric's usage when it fired; null where there was none."
    )
    fired_at: datetime
    delivery: DeliveryOut


class SignalsOut(BaseModel):
    signals: list[SignalOut] = Field(description="The first stored first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class AccountOut(BaseModel):
    account_id: str
    plan: str
    attributes: dict[str, Any]
    usage: dict[str, UsageOut]
    created_at: datetime | None
    updated_at: datetime | None
    signals: list[SignalOut] = Field(
        description=f"The account's latest signals (at most {ACCOUNT_SIGNALS}), latest first."
    )


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
    style: PromptStyle
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


MAX_SIGNALS_PAGE = 1000


def _signal_type(value: object) -> object:
    if isinstance(value, str) and value not in SIGNAL_TYPES:
        raise ValueError(
            f"unknown signal type {json.dumps(value)}; the known types are: "
            + ", ".join(SIGNAL_TYPES)
        )
    return value


def _query_time(value: object) -> object:
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value.upper())  # RFC 3339 allows a lowercase t and z
    except ValueError:
        hint = "; in a URL, send the + of an offset as %2B" if " " in value else ""
        raise ValueError(
            f"must be an RFC 3339 time such as 2026-11-25T10:00:00Z, not {json.dumps(value)}" + hint
        ) from None
    if moment.tzinfo is None:
        raise ValueError(
            f"{json.dumps(value)} has no time zone; add Z for UTC or an offset such as %2B01:00"
        )
    return moment


def _page_size(value: int) -> int:
    if not 1 <= value <= MAX_SIGNALS_PAGE:
        raise ValueError(f"must be from 1 to {MAX_SIGNALS_PAGE}, not {value}")
    return value


def _cursor(value: str | None) -> str | None:
    if value is not None:
        try:
            decode_cursor(value)
        except InvalidCursor as exc:
            raise ValueError(str(exc)) from None
    return value


class SignalQuery(BaseModel):
    """The query of GET /v1/signals; an unknown parameter is an error, so a typo never
    widens the listing."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[SignalType | None, BeforeValidator(_signal_type)] = Field(
        default=None, description="Only signals of this type; absent: every type."
    )
    since: Annotated[AwareDatetime | None, BeforeValidator(_query_time)] = Field(
        default=None,
        description="Only signals fired at or after this RFC 3339 time (with a time zone).",
    )
    limit: Annotated[int, AfterValidator(_page_size)] = Field(
        default=100,
        description=f"At most this many signals in the page (1 to {MAX_SIGNALS_PAGE}).",
        json_schema_extra={"minimum": 1, "maximum": MAX_SIGNALS_PAGE},
    )
    cursor: Annotated[str | None, AfterValidator(_cursor)] = Field(
        default=None,
        description="The `next_cursor` of the previous page, unchanged.",
        json_schema_extra={"minLength": 1},
    )


class PromptEventIn(_Body):
    type: PromptEventType


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
    caps: list[dict[str, Any]] = Field(
        description="The rule set's frequency caps: key (a style or any), count, per_seconds, scope"
    )
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


class ExplainQuery(BaseModel):
    """The query of GET /v1/accounts/{account_id}/explain: the prompt request to explain."""

    model_config = ConfigDict(extra="forbid")

    user_id: UserId | None = Field(
        default=None, description="The user asking; omit for the account's anonymous user."
    )
    placement: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Where the prompt would show; omit for a request without a placement.",
    )


class TriggerDecisionOut(BaseModel):
    trigger: str
    outcome: Outcome = Field(
        description="Where the trigger stopped: `shown` if GET /v1/prompts returns it."
    )
    fires: bool = Field(
        description="It fires for the account: shown, shadow or signal, or held back only by "
        "this user's dismissal, impressions or a cap."
    )
    signal: bool = Field(description="Its `signal:` fires for the account.")
    reason: str = Field(
        description='The outcome in words, such as "below threshold: 2 of 3 seats = 67% < 80%".'
    )


class ExplainOut(BaseModel):
    account_id: str
    plan: str = Field(description="The plan the rules evaluate the account on.")
    plan_is_default: bool = Field(
        description="True when the account was never PUT: it is on the rules' default_plan."
    )
    rules_version: str
    at: datetime = Field(description="The moment the rules were evaluated at.")
    user_id: str | None
    placement: str | None
    usage: dict[str, int | float] = Field(
        description="Every metric's usage (counters: the current window)."
    )
    triggers: list[TriggerDecisionOut] = Field(
        description="Every trigger, in display order (priority, then id)."
    )
    prompts: list[str] = Field(description="The triggers GET /v1/prompts returns, in order.")
    signals: list[str] = Field(description="The triggers whose signal fires for the account.")
