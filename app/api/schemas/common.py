"""What the request and response bodies of every resource share: identifiers, the body
base that refuses unknown fields, how JSON values and times are checked, the error body."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.identifiers import ID_REGEX

AccountId = Annotated[str, Field(pattern=ID_REGEX, examples=["acme"])]
UserId = Annotated[str, Field(pattern=ID_REGEX, examples=["u_42"])]


def json_kind(value: object) -> str:
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


def json_number_value(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"must be a JSON number, not {json_kind(value)}")
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def query_time(value: object) -> object:
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


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcceptedOut(BaseModel):
    status: Literal["accepted"] = "accepted"


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
