"""One MGET over named sections of keys, its answer handed back section by section.

The prompt path reads one account's state across key families (the mirror, usage by
metric, pending marks by trigger, dismissals by trigger, impression lists) in a single
round trip. Each family names its keys by item (a metric, a trigger id, ...) in a
section of the plan; the plan lays the sections end to end into the one MGET and hands
each section its own values back, matched by key, so a key added to one section cannot
shift what another decodes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Raw = str | None  # what MGET answers for one key: its value, None where missing
Section = Mapping[str, str]  # item -> key
Answer = Mapping[str, Mapping[str, Raw]]  # section -> item -> value


class ReadPlan:
    """The keys of one read, by section; `keys` is its MGET."""

    def __init__(self, sections: Mapping[str, Section]) -> None:
        self.sections = {name: dict(section) for name, section in sections.items()}
        self.keys = [key for section in self.sections.values() for key in section.values()]

    def answer(self, found: Mapping[str, Raw]) -> Answer:
        """Each section's values by item, from the values read by key (`by_key`)."""
        return {
            name: {item: found[key] for item, key in section.items()}
            for name, section in self.sections.items()
        }


def by_key(keys: Sequence[str], values: Sequence[Any]) -> dict[str, Raw]:
    """An MGET's answer by key: Redis answers with the value of each key asked, in order
    (as str: the store's client decodes what it reads)."""
    return dict(zip(keys, values, strict=True))
