"""The bodies of PUT and GET /v1/accounts/{account_id}."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

from app.api.schemas.common import Body
from app.api.schemas.signals import SignalOut
from app.engine import CounterWindow, json_number
from app.services.accounts import AccountView, MetricUsage
from app.services.signal_feed import ACCOUNT_SIGNALS

MAX_ATTRIBUTES_BYTES = 16 * 1024


def _small_attributes(value: dict[str, Any] | None) -> dict[str, Any] | None:
    # Attributes are mirrored into Redis and read on every prompt request: keep them small.
    if value is not None and len(json.dumps(value)) > MAX_ATTRIBUTES_BYTES:
        raise ValueError(
            f"attributes are over {MAX_ATTRIBUTES_BYTES // 1024} KiB as JSON; "
            "keep to the few facts rules and reports need"
        )
    return value


class AccountIn(Body):
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

    @classmethod
    def of(cls, usage: MetricUsage) -> UsageOut:
        # A gauge's answer has no window keys at all (the routes exclude what is unset).
        counter = {"window": usage.window, "resets_at": usage.resets_at} if usage.window else {}
        return cls(value=json_number(usage.value), limit=json_number(usage.limit), **counter)


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

    @classmethod
    def of(cls, view: AccountView) -> AccountOut:
        return cls(
            account_id=view.account_id,
            plan=view.plan,
            attributes=view.attributes,
            usage={name: UsageOut.of(usage) for name, usage in view.usage.items()},
            created_at=view.created_at,
            updated_at=view.updated_at,
            signals=[SignalOut.of(record) for record in view.signals],
        )
