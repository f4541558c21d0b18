"""The bodies of POST /v1/usage."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, BeforeValidator, Field

from app.api.schemas.common import AccountId, Body, json_number_value
from app.engine import UsageOp

MAX_EVENTS = 1000


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


class UsageEventIn(Body):
    id: Annotated[str, BeforeValidator(_event_id)] = Field(
        description="Unique per account; a repeated id is counted once.", examples=["evt_01"]
    )
    account_id: AccountId
    metric: str = Field(examples=["seats"])
    value: Annotated[float, BeforeValidator(json_number_value)] = 1
    op: UsageOp = "incr"
    timestamp: Annotated[AwareDatetime | None, BeforeValidator(_rfc3339)] = Field(
        default=None, description="RFC 3339 with a time zone; default: now."
    )


class UsageBatchIn(Body):
    events: list[UsageEventIn] = Field(max_length=MAX_EVENTS)


class UsageBatchOut(BaseModel):
    accepted: int
    duplicates: int
