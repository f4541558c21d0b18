"""Signals in SQL: the product-qualified leads triggers raised, kept as an outbox.

A signal is written once and never rewritten except by delivery: a later release
sends the pending ones to webhooks in `seq` order and records each attempt on the
row (state, attempts, next attempt, last error). Its `id`, a UUID fixed when the
signal is made, is what a receiver sees on every attempt, so a repeat can be dropped.
Adding a signal whose id is stored already changes nothing, so a write path that
retries with the same record never stores it twice.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.store.sql_calls import in_thread
from app.store.sql_models import SignalRow

DeliveryState = Literal["pending", "delivered", "failed"]


@dataclass(frozen=True, slots=True)
class SignalRecord:
    id: str  # a UUID; the idempotency key webhook receivers see
    type: str  # "pql"
    account_id: str
    trigger_id: str
    plan: str
    usage: Mapping[str, float | None]  # every metric's usage when it fired; None where none
    fired_at: datetime
    delivery_state: DeliveryState = "pending"
    delivery_attempts: int = 0
    next_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None
    seq: int | None = None  # set by the database: the order signals were stored in


def new_signal(  # noqa: PLR0913 SignalRecord's own fields, each by keyword
    type: str,
    *,
    account_id: str,
    trigger_id: str,
    plan: str,
    usage: Mapping[str, float | None],
    fired_at: datetime,
) -> SignalRecord:
    """A signal that just fired: a fresh id, pending delivery and due at once."""
    return SignalRecord(
        id=str(uuid.uuid4()),
        type=type,
        account_id=account_id,
        trigger_id=trigger_id,
        plan=plan,
        usage=dict(usage),
        fired_at=fired_at,
        next_attempt_at=fired_at,
    )


@dataclass(frozen=True, slots=True)
class SignalPage:
    records: list[SignalRecord]
    next_seq: int | None  # pass as `after_seq` for the next page; None: this was the last


class SignalStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def add(self, record: SignalRecord) -> None:
        """Store a signal, unless one with its id is stored already."""
        values = _values(record)

        def run() -> None:
            # INSERT ... ON CONFLICT (id) DO NOTHING, which both supported dialects have.
            insert = (
                postgresql.insert if self._engine.dialect.name == "postgresql" else sqlite.insert
            )
            statement = (
                insert(SignalRow).values(**values).on_conflict_do_nothing(index_elements=["id"])
            )
            with self._engine.begin() as connection:
                connection.execute(statement)

        await in_thread(run, "recording the signal")

    async def list(
        self,
        type: str | None,
        since: datetime | None,
        *,
        after_seq: int | None,
        limit: int,
    ) -> SignalPage:
        """Signals in the order they were stored, of `type` (None: every type), fired at
        or after `since`, stored after `after_seq`; at most `limit` of them."""
        query = select(SignalRow).order_by(SignalRow.seq).limit(limit + 1)
        if type is not None:
            query = query.where(SignalRow.type == type)
        if since is not None:
            query = query.where(SignalRow.fired_at >= _to_utc(since))
        if after_seq is not None:
            query = query.where(SignalRow.seq > after_seq)

        def run() -> SignalPage:
            with Session(self._engine) as session:
                records = [_record(row) for row in session.scalars(query)]
            if len(records) <= limit:
                return SignalPage(records, next_seq=None)
            records = records[:limit]
            return SignalPage(records, next_seq=records[-1].seq)

        return await in_thread(run, "listing signals")

    async def for_account(self, account_id: str, *, limit: int) -> builtins.list[SignalRecord]:
        """The account's most recent signals, the latest first."""
        query = (
            select(SignalRow)
            .where(SignalRow.account_id == account_id)
            .order_by(SignalRow.fired_at.desc(), SignalRow.seq.desc())
            .limit(limit)
        )

        def run() -> builtins.list[SignalRecord]:
            with Session(self._engine) as session:
                return [_record(row) for row in session.scalars(query)]

        return await in_thread(run, "reading the account's signals")


def _values(record: SignalRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "type": record.type,
        "account_id": record.account_id,
        "trigger_id": record.trigger_id,
        "plan": record.plan,
        "usage": dict(record.usage),
        "fired_at": _to_utc(record.fired_at),
        "delivery_state": record.delivery_state,
        "delivery_attempts": record.delivery_attempts,
        "next_attempt_at": _to_utc(record.next_attempt_at) if record.next_attempt_at else None,
        "delivered_at": _to_utc(record.delivered_at) if record.delivered_at else None,
        "last_error": record.last_error,
    }


def _record(row: SignalRow) -> SignalRecord:
    return SignalRecord(
        id=row.id,
        type=row.type,
        account_id=row.account_id,
        trigger_id=row.trigger_id,
        plan=row.plan,
        usage=dict(row.usage),
        fired_at=_from_db(row.fired_at),
        delivery_state=cast(DeliveryState, row.delivery_state),
        delivery_attempts=row.delivery_attempts,
        next_attempt_at=_from_db(row.next_attempt_at) if row.next_attempt_at else None,
        delivered_at=_from_db(row.delivered_at) if row.delivered_at else None,
        last_error=row.last_error,
        seq=row.seq,
    )


def _to_utc(moment: datetime) -> datetime:
    # SQLite stores a datetime's wall time and drops its offset: store and compare UTC only.
    if moment.tzinfo is None:
        raise ValueError(f"a signal time needs a time zone, got {moment.isoformat()}")
    return moment.astimezone(UTC)


def _from_db(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything Nudge stores is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)
