"""Signals as the API shows them: one item shape for GET /v1/signals and an account's
`signals`, and the opaque cursor that pages the listing."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from app.engine import json_number
from app.store.signals import SignalRecord, SignalStore

ACCOUNT_SIGNALS = 20  # how many of its latest signals an account's description shows

_CURSOR_PREFIX = "seq:"
_MAX_CURSOR_LENGTH = 64


class InvalidCursor(ValueError):
    """A cursor this service did not issue."""


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The seq a cursor from `encode_cursor` stands for."""
    text = ""
    if len(cursor) <= _MAX_CURSOR_LENGTH:
        try:
            text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = ""
    digits = text.removeprefix(_CURSOR_PREFIX)
    # At most 18 digits: every seq the database can hold, and nothing that overflows it.
    valid = digits.isascii() and digits.isdigit() and len(digits) <= 18
    if not text.startswith(_CURSOR_PREFIX) or not valid:
        raise InvalidCursor(
            "is not a cursor this service issued; pass the next_cursor of a previous answer "
            "unchanged, or leave cursor out to start from the first signal"
        )
    return int(digits)


def describe_signal(record: SignalRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "type": record.type,
        "account_id": record.account_id,
        "trigger": record.trigger_id,
        "plan": record.plan,
        "usage": {metric: json_number(value) for metric, value in record.usage.items()},
        "fired_at": record.fired_at,
        "delivery": {
            "state": record.delivery_state,
            "attempts": record.delivery_attempts,
            "delivered_at": record.delivered_at,
        },
    }


async def list_signals(
    store: SignalStore,
    *,
    type: str | None,
    since: datetime | None,
    cursor: str | None,
    limit: int,
) -> dict[str, Any]:
    """One page of signals, the first stored first, and the cursor of the next page."""
    page = await store.list(
        type, since, after_seq=None if cursor is None else decode_cursor(cursor), limit=limit
    )
    return {
        "signals": [describe_signal(record) for record in page.records],
        "next_cursor": encode_cursor(page.next_seq) if page.next_seq is not None else None,
    }
