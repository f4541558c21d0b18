from __future__ import annotations

from datetime import UTC, datetime, timedelta


class FakeClock:
    """A clock the test moves by hand. Starts at the real current time, because Redis
    keys still expire in real time."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


# A fixed time for tests that start the clock there: ahead of the real one (Redis keys
# still expire in real time), and one that reads well in an assertion.
T0 = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
