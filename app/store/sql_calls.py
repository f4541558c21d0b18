"""Run synchronous SQLAlchemy work off the event loop, translating its failures."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from sqlalchemy.exc import SQLAlchemyError

from app.errors import StoreUnavailable

T = TypeVar("T")


async def in_thread(run: Callable[[], T], action: str) -> T:
    """`run()` in a worker thread; a database failure becomes StoreUnavailable.

    The work runs in one transaction that rolls back on failure, so nothing was changed.
    """
    try:
        return await anyio.to_thread.run_sync(run)
    except SQLAlchemyError as exc:
        raise StoreUnavailable(
            f"the database failed while {action} ({exc.__class__.__name__}); "
            "nothing was changed, retry later"
        ) from exc
