"""Calendar windows of counters, in UTC: a table of instants and the window holding each."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.engine.model.windows import window_end, window_id, window_start
from app.engine.vocabulary import CounterWindow


def at(text: str) -> datetime:
    """An instant written in ISO 8601 with its zone, e.g. 2024-05-15T12:00Z."""
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None
    return parsed


@pytest.mark.parametrize(
    ("window", "instant", "start", "end", "ident"),
    [
        ("hour", "2024-05-15T12:00Z", "2024-05-15T12:00Z", "2024-05-15T13:00Z", "h2024051512"),
        ("hour", "2024-05-15T12:59:59.9Z", "2024-05-15T12:00Z", "2024-05-15T13:00Z", "h2024051512"),
        ("hour", "2024-12-31T23:30Z", "2024-12-31T23:00Z", "2025-01-01T00:00Z", "h2024123123"),
        ("day", "2024-05-15T00:00Z", "2024-05-15T00:00Z", "2024-05-16T00:00Z", "d20240515"),
        ("day", "2024-05-15T23:59:59Z", "2024-05-15T00:00Z", "2024-05-16T00:00Z", "d20240515"),
        ("day", "2024-02-28T12:00Z", "2024-02-28T00:00Z", "2024-02-29T00:00Z", "d20240228"),
        ("day", "2024-02-29T12:00Z", "2024-02-29T00:00Z", "2024-03-01T00:00Z", "d20240229"),
        # ISO weeks start on Monday: 2024-05-13 is a Monday, 2024-05-19 a Sunday.
        ("week", "2024-05-13T00:00Z", "2024-05-13T00:00Z", "2024-05-20T00:00Z", "w20240513"),
        ("week", "2024-05-15T12:00Z", "2024-05-13T00:00Z", "2024-05-20T00:00Z", "w20240513"),
        ("week", "2024-05-19T23:59Z", "2024-05-13T00:00Z", "2024-05-20T00:00Z", "w20240513"),
        ("week", "2025-01-01T09:00Z", "2024-12-30T00:00Z", "2025-01-06T00:00Z", "w20241230"),
        ("month", "2024-05-01T00:00Z", "2024-05-01T00:00Z", "2024-06-01T00:00Z", "m202405"),
        ("month", "2024-05-31T23:59Z", "2024-05-01T00:00Z", "2024-06-01T00:00Z", "m202405"),
        ("month", "2024-02-10T00:00Z", "2024-02-01T00:00Z", "2024-03-01T00:00Z", "m202402"),
        ("month", "2024-12-15T00:00Z", "2024-12-01T00:00Z", "2025-01-01T00:00Z", "m202412"),
        ("month", "2025-01-01T00:00Z", "2025-01-01T00:00Z", "2025-02-01T00:00Z", "m202501"),
    ],
)
def test_window_holding_an_instant(
    window: CounterWindow, instant: str, start: str, end: str, ident: str
) -> None:
    assert window_start(window, at(instant)) == at(start)
    assert window_end(window, at(instant)) == at(end)
    assert window_id(window, at(instant)) == ident


@pytest.mark.parametrize(
    ("window", "instant", "start", "ident"),
    [
        # 00:30 in Berlin on June 1st is still May 31st in UTC.
        ("month", "2024-06-01T00:30+02:00", "2024-05-01T00:00Z", "m202405"),
        ("day", "2024-06-01T00:30+02:00", "2024-05-31T00:00Z", "d20240531"),
        ("hour", "2024-06-01T00:30+02:00", "2024-05-31T22:00Z", "h2024053122"),
        # 21:00 on New Year's Eve in New York is already January in UTC.
        ("month", "2024-12-31T21:00-05:00", "2025-01-01T00:00Z", "m202501"),
        # Sunday evening in New York is Monday in UTC: a new ISO week.
        ("week", "2024-05-19T20:00-05:00", "2024-05-20T00:00Z", "w20240520"),
        # Half-hour zones land in the UTC hour, not the local one.
        ("hour", "2024-05-15T12:10+05:30", "2024-05-15T06:00Z", "h2024051506"),
    ],
)
def test_windows_are_calendar_aligned_in_utc_whatever_the_input_zone(
    window: CounterWindow, instant: str, start: str, ident: str
) -> None:
    found = window_start(window, at(instant))
    assert found == at(start)
    assert found.tzinfo == UTC
    assert window_id(window, at(instant)) == ident


@pytest.mark.parametrize("window", ["hour", "day", "week", "month"])
def test_next_window_starts_where_the_previous_one_ends(window: CounterWindow) -> None:
    instant = at("2024-12-31T23:59:59Z")
    end = window_end(window, instant)
    assert window_start(window, end) == end
    assert window_id(window, end) > window_id(window, instant)  # ids sort in time order
