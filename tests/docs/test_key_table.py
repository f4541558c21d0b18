"""The Redis key table of docs/operations.md ("Redis key layout") is the one list of keys,
held to app/store/keys.py: every key a builder makes has a row, every row is a key a
builder makes, and no builder is left out of this test."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable

from app.store import keys
from tests.conftest import REPO

OPERATIONS = REPO / "docs" / "operations.md"
KEY_CELL = re.compile(r"`(nudge:[^`]+)`")

# Every builder, called with the placeholders the table writes: A for the account.
BUILT: dict[str, list[Callable[[], str]]] = {
    "account_key": [lambda: keys.account_key("A")],
    "gauge_key": [lambda: keys.gauge_key("A", "<metric>")],
    "counter_key": [lambda: keys.counter_key("A", "<metric>", window_id="<window>")],
    "event_key": [lambda: keys.event_key("A", "<event id>")],
    "dismissal_key": [
        lambda: keys.dismissal_key("A", "<user>", trigger_id="<trigger>"),
        lambda: keys.dismissal_key("A", None, trigger_id="<trigger>"),
    ],
    "pending_key": [lambda: keys.pending_key("A", "<trigger>")],
    "impressions_key": [
        lambda: keys.impressions_key("A", "<user>"),
        lambda: keys.impressions_key("A", None),
    ],
    "account_impressions_key": [lambda: keys.account_impressions_key("A")],
    "signal_gate_key": [lambda: keys.signal_gate_key("A", "<trigger>")],
}


def documented_keys() -> list[str]:
    """The keys in the first column of the table under "Redis key layout"."""
    text = OPERATIONS.read_text()
    section = text.split("## Redis key layout", 1)[1].split("\n## ", 1)[0]
    found: list[str] = []
    for line in section.splitlines():
        if line.startswith("| `nudge:"):
            first_cell = line.split("|")[1]
            found += KEY_CELL.findall(first_cell)
    return found


def test_every_key_builder_of_keys_py_is_held_to_the_table() -> None:
    builders = {
        name
        for name, value in inspect.getmembers(keys, inspect.isfunction)
        if name.endswith("_key") and not name.startswith("_") and value.__module__ == keys.__name__
    }
    assert builders == set(BUILT), "a key builder is new or gone: add it to BUILT and the table"


def test_the_table_lists_every_key_the_builders_make_and_no_other() -> None:
    built = sorted(make() for makers in BUILT.values() for make in makers)

    assert sorted(documented_keys()) == built


def test_every_key_of_one_account_shares_its_hash_tag() -> None:
    for makers in BUILT.values():
        for make in makers:
            assert make().startswith("nudge:{A}:")
