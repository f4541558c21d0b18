"""Signals as the API lists them: pages of GET /v1/signals, an account's latest, and the
opaque cursor that pages the listing."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime

from app.engine import SignalType
from app.store.signals import SignalRecord, SignalStore

# A signal as the services hand it up: the store's record, read-only.
Signal = SignalRecord

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


@dataclass(frozen=True, slots=True)
class SignalPage:
    signals: list[Signal]  # the first stored first
    next_cursor: str | None  # None on the last page


@dataclass
class SignalFeed:
    store: SignalStore

    async def page(
        self, *, type: SignalType | None, since: datetime | None, cursor: str | None, limit: int
    ) -> SignalPage:
        """One page of signals, the first stored first, and the cursor of the next page."""
        after = None if cursor is None else decode_cursor(cursor)
        page = await self.store.list(type, since, after_seq=after, limit=limit)
        next_cursor = encode_cursor(page.next_seq) if page.next_seq is not None else None
        return SignalPage(list(page.records), next_cursor)

    async def latest_for(self, account_id: str) -> list[Signal]:
        """The account's latest signals (at most ACCOUNT_SIGNALS), latest first."""
        return list(await self.store.for_account(account_id, limit=ACCOUNT_SIGNALS))
