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
