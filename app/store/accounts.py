"""Accounts and prompt events in SQL.

SQLAlchemy is synchronous here; the service calls these methods in a worker
thread. A write that must also reach Redis takes a `mirror` coroutine function:
it runs inside the SQL transaction (on the event loop), so if Redis fails the SQL
change is rolled back and nothing is half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio.from_thread
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.store.sql_calls import in_thread
from app.store.sql_models import AccountRow, PromptEventRow

Mirror = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class AccountRecord:
    account_id: str
    plan: str
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AccountPatch:
    """What a PUT changes: None keeps the stored value (on a new account: the rules'
    default plan, no attributes)."""

    plan: str | None
    attributes: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class PromptEventRecord:
    account_id: str
    user_id: str | None
    trigger_id: str
    type: str
    prompt_issued_at: datetime
    created_at: datetime


def _record(row: AccountRow) -> AccountRecord:
    return AccountRecord(
        account_id=row.account_id,
        plan=row.plan,
        attributes=dict(row.attributes),
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
    )


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything Nudge stores is UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class SqlStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    async def get_account(self, account_id: str) -> AccountRecord | None:
        def run() -> AccountRecord | None:
            with Session(self._engine) as session:
                row = session.get(AccountRow, account_id)
                return _record(row) if row else None

        return await in_thread(run, "reading the account")

    async def put_account(
        self,
        account_id: str,
        patch: AccountPatch,
        *,
        default_plan: str,
        now: datetime,
        mirror: Callable[[AccountRecord], Coroutine[Any, Any, None]],
    ) -> AccountRecord:
        """Create the account, or apply `patch` to it."""
        plan, attributes = patch.plan, patch.attributes

        def write() -> AccountRecord:
            with Session(self._engine) as session, session.begin():
                row = session.get(AccountRow, account_id, with_for_update=True)
                if row is None:
                    row = AccountRow(
                        account_id=account_id,
                        plan=plan or default_plan,
                        attributes=attributes or {},
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(row)
                else:
                    if plan is not None:
                        row.plan = plan
                    if attributes is not None:
                        row.attributes = attributes
                    row.updated_at = now
                session.flush()
                record = _record(row)
                anyio.from_thread.run(mirror, record)
            return record

        def run() -> AccountRecord:
            try:
                return write()
            except IntegrityError:
                # Two first PUTs of one account raced to insert it; the loser updates it.
                return write()

        return await in_thread(run, "writing the account")

    async def add_prompt_event(self, event: PromptEventRecord, *, mirror: Mirror) -> None:
        def run() -> None:
            with Session(self._engine) as session, session.begin():
                session.add(
                    PromptEventRow(
                        account_id=event.account_id,
                        user_id=event.user_id,
                        trigger_id=event.trigger_id,
                        type=event.type,
                        prompt_issued_at=event.prompt_issued_at,
                        created_at=event.created_at,
                    )
                )
                session.flush()
                anyio.from_thread.run(mirror)

        await in_thread(run, "recording the prompt event")
