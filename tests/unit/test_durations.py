"""Durations as rule authors write them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.engine.durations import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("3d", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
        ("1d", timedelta(days=1)),
        ("0m", timedelta(0)),
    ],
)
def test_duration_is_a_whole_number_and_a_unit(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text", ["3 days", "3", "d", "1.5h", "-1d", "3D", "3s", "1y", "", "1h30m", "three days"]
)
def test_other_forms_are_refused_with_the_accepted_ones_shown(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_duration(text)
    assert f'"{text}" is not a duration' in str(caught.value)
    assert "30m, 12h, 3d or 2w" in str(caught.value)
