"""Durations as rule authors write them: 30m, 12h, 3d, 2w."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """Parse `text`; raise ValueError with a message that shows the accepted forms."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise ValueError(
            f'"{text}" is not a duration; write a whole number and a unit, '
            "such as 30m, 12h, 3d or 2w"
        )
    amount, unit = match.groups()
    return timedelta(**{_UNITS[unit]: int(amount)})


def format_duration(duration: timedelta) -> str:
    """A duration as rule authors write it, in its largest whole unit of days, hours or
    minutes: 30m, 12h, 3d, 14d (weeks read back as days: 7d was more likely written)."""
    seconds = int(duration.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
