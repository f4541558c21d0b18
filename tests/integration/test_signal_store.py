"""The signal outbox in SQL, on SQLite and (with TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy
from sqlalchemy import Engine

from app.store import database
from app.store.signals import SignalRecord, SignalStore, new_signal
from app.store.sql_models import SignalRow

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(any_database_url: str) -> Iterator[Engine]:
    created = database.create_database_engine(any_database_url)
    database.upgrade(created)  # PostgreSQL is migrated by the operator, not at start
    yield created
    created.dispose()


@pytest.fixture
def store(engine: Engine) -> SignalStore:
    return SignalStore(engine)


def pql(
    account: str = "acme",
    *,
    at: datetime = T0,
    trigger: str = "seats-pql",
    type: str = "pql",
) -> SignalRecord:
    return new_signal(
        type,
        account_id=account,
        trigger_id=trigger,
        plan="free",
        usage={"seats": 3, "api_calls": 8500.5, "history_days": None},
        fired_at=at,
    )


async def add_all(store: SignalStore, *records: SignalRecord) -> list[SignalRecord]:
    """Add one after the other (their seq follows this order) and return them as stored."""
    for record in records:
        await store.add(record)
    return (await store.list(None, None, after_seq=None, limit=1000)).records


async def test_a_signal_comes_back_as_it_was_added_pending_delivery(store: SignalStore) -> None:
    record = pql()

    await store.add(record)
    page = await store.list("pql", None, after_seq=None, limit=10)

    assert page.next_seq is None
    [stored] = page.records
    assert stored.seq is not None
    assert stored == SignalRecord(
        id=record.id,
        type="pql",
        account_id="acme",
        trigger_id="seats-pql",
        plan="free",
        usage={"seats": 3, "api_calls": 8500.5, "history_days": None},
        fired_at=T0,
        delivery_state="pending",
        delivery_attempts=0,
        next_attempt_at=T0,  # due for delivery at once
        delivered_at=None,
        last_error=None,
        seq=stored.seq,
    )
    assert stored.fired_at.tzinfo is not None


async def test_new_signals_get_distinct_uuid_ids(store: SignalStore) -> None:
    first, second = pql(), pql()

    assert first.id != second.id
    assert len(first.id) == 36 and first.id.count("-") == 4


async def test_adding_the_same_signal_again_keeps_one_row(store: SignalStore) -> None:
    record = pql()

    await asyncio.gather(*(store.add(record) for _ in range(4)))
    await store.add(record)

    stored = (await store.list(None, None, after_seq=None, limit=10)).records
    assert [s.id for s in stored] == [record.id]


async def test_listing_is_in_the_order_signals_were_stored(store: SignalStore) -> None:
    # fired_at out of order (clocks of several replicas differ): seq decides the order
    records = [pql("a", at=T0 + timedelta(minutes=5)), pql("b", at=T0), pql("c", at=T0)]

    stored = await add_all(store, *records)

    assert [s.account_id for s in stored] == ["a", "b", "c"]
    seqs = [s.seq or 0 for s in stored]
    assert 0 < seqs[0] < seqs[1] < seqs[2]


async def test_listing_filters_by_type(store: SignalStore) -> None:
    await add_all(store, pql("a"), pql("b", type="trial"), pql("c"))

    pqls = await store.list("pql", None, after_seq=None, limit=10)
    trials = await store.list("trial", None, after_seq=None, limit=10)

    assert [s.account_id for s in pqls.records] == ["a", "c"]
    assert [s.account_id for s in trials.records] == ["b"]


async def test_since_keeps_the_signals_fired_at_or_after_it(store: SignalStore) -> None:
    await add_all(
        store,
        pql("before", at=T0 - timedelta(microseconds=1)),
        pql("at", at=T0),
        pql("after", at=T0 + timedelta(hours=1)),
    )

    page = await store.list(None, T0, after_seq=None, limit=10)

    assert [s.account_id for s in page.records] == ["at", "after"]


async def test_times_in_other_zones_are_compared_as_instants(store: SignalStore) -> None:
    paris = timezone(timedelta(hours=1))
    # 09:30 in Paris is 08:30 UTC: before T0, although its wall time is after
    await add_all(store, pql("early", at=datetime(2026, 11, 26, 9, 30, tzinfo=paris)))
    await add_all(store, pql("late", at=T0 + timedelta(minutes=30)))

    page = await store.list(
        None, datetime(2026, 11, 26, 10, 0, tzinfo=paris), after_seq=None, limit=10
    )

    assert [s.account_id for s in page.records] == ["late"]
    assert (await store.list(None, None, after_seq=None, limit=10)).records[0].fired_at == (
        datetime(2026, 11, 26, 8, 30, tzinfo=UTC)
    )


async def test_pages_cover_every_signal_once(store: SignalStore) -> None:
    stored = await add_all(store, *(pql(f"acct-{i}") for i in range(5)))

    seen: list[str] = []
    after: int | None = None
    pages = 0
    while True:
        page = await store.list("pql", None, after_seq=after, limit=2)
        pages += 1
        seen += [s.account_id for s in page.records]
        if page.next_seq is None:
            break
        assert page.next_seq == page.records[-1].seq
        after = page.next_seq

    assert seen == [s.account_id for s in stored]
    assert pages == 3


async def test_a_page_that_ends_exactly_at_the_last_signal_has_no_next(
    store: SignalStore,
) -> None:
    await add_all(store, pql("a"), pql("b"))

    page = await store.list(None, None, after_seq=None, limit=2)

    assert [s.account_id for s in page.records] == ["a", "b"]
    assert page.next_seq is None


async def test_an_account_shows_its_latest_signals_first(store: SignalStore) -> None:
    await add_all(
        store,
        pql("acme", at=T0, trigger="first"),
        pql("other", at=T0 + timedelta(hours=2), trigger="foreign"),
        pql("acme", at=T0 + timedelta(hours=1), trigger="second"),
        pql("acme", at=T0 + timedelta(hours=3), trigger="third"),
    )

    latest = await store.for_account("acme", limit=2)
    every = await store.for_account("acme", limit=20)

    assert [s.trigger_id for s in latest] == ["third", "second"]
    assert [s.trigger_id for s in every] == ["third", "second", "first"]
    assert await store.for_account("nobody", limit=20) == []


async def test_a_signal_time_without_a_zone_is_refused(store: SignalStore) -> None:
    with pytest.raises(ValueError, match="needs a time zone"):
        await store.add(pql(at=datetime(2026, 11, 26, 9, 0)))


async def test_delivery_state_is_read_back_as_a_deliverer_wrote_it(
    store: SignalStore, engine: Engine
) -> None:
    record = pql()
    await store.add(record)
    delivered = T0 + timedelta(minutes=1)
    with engine.begin() as connection:
        connection.execute(
            sqlalchemy.update(SignalRow)
            .where(SignalRow.id == record.id)
            .values(
                delivery_state="delivered",
                delivery_attempts=2,
                delivered_at=delivered,
                next_attempt_at=None,
                last_error="HTTP 502",
            )
        )

    [stored] = await store.for_account("acme", limit=1)

    assert (stored.delivery_state, stored.delivery_attempts) == ("delivered", 2)
    assert stored.delivered_at == delivered
    assert stored.next_attempt_at is None
    assert stored.last_error == "HTTP 502"
