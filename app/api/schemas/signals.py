"""The bodies of GET /v1/signals, and the signals an account's description lists."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from app.api.schemas.common import query_time
from app.engine import SIGNAL_TYPES, SignalType, json_number
from app.services.signal_feed import InvalidCursor, Signal, SignalPage, decode_cursor


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

    @classmethod
    def of(cls, record: Signal) -> SignalOut:
        return cls(
            id=record.id,
            type=record.type,
            account_id=record.account_id,
            trigger=record.trigger_id,
            plan=record.plan,
            usage={metric: json_number(value) for metric, value in record.usage.items()},
            fired_at=record.fired_at,
            delivery=DeliveryOut(
                state=record.delivery_state,
                attempts=record.delivery_attempts,
                delivered_at=record.delivered_at,
            ),
        )


class SignalsOut(BaseModel):
    signals: list[SignalOut] = Field(description="The first stored first.")
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )

    @classmethod
    def of(cls, page: SignalPage) -> SignalsOut:
        return cls(
            signals=[SignalOut.of(record) for record in page.signals],
            next_cursor=page.next_cursor,
        )


MAX_SIGNALS_PAGE = 1000


def _signal_type(value: object) -> object:
    if isinstance(value, str) and value not in SIGNAL_TYPES:
        raise ValueError(
            f"unknown signal type {json.dumps(value)}; the known types are: "
            + ", ".join(SIGNAL_TYPES)
        )
    return value


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
    since: Annotated[AwareDatetime | None, BeforeValidator(query_time)] = Field(
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
