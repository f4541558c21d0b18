"""Calendar windows of counters, in UTC. Weeks start on Monday (ISO)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.engine.vocabulary import CounterWindow


def window_start(window: CounterWindow, at: datetime) -> datetime:
    """The start of the window that contains `at`."""
    at = at.astimezone(UTC)
    if window == "hour":
        return at.replace(minute=0, second=0, microsecond=0)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "day":
        return day
    if window == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def window_end(window: CounterWindow, at: datetime) -> datetime:
    """The end (exclusive) of the window that contains `at`: when the counter resets."""
    start = window_start(window, at)
    if window == "hour":
        return start + timedelta(hours=1)
    if window == "day":
        return start + timedelta(days=1)
    if window == "week":
        return start + timedelta(weeks=1)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def window_id(window: CounterWindow, at: datetime) -> str:
    """A short, sortable name of the window that contains `at`, used in storage keys."""
    start = window_start(window, at)
    if window == "hour":
        return start.strftime("h%Y%m%d%H")
    if window == "day":
        return start.strftime("d%Y%m%d")
    if window == "week":
        return start.strftime("w%Y%m%d")
    return start.strftime("m%Y%m")
