"""The key module owns each key: the account listing's pattern and parsing are derived
from the builders, and each TTL rule reads as docs/operations.md's key table says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase

import pytest

from app.store import keys

ACCOUNT = "acme.eu@2026"
# One key of every family; those that name an account in a listing first.
NAMING_AN_ACCOUNT = [
    keys.account_key(ACCOUNT),
    keys.gauge_key(ACCOUNT, "seats"),
    keys.counter_key(ACCOUNT, "api_calls", window_id="m202611"),
]
BOOKKEEPING = [
    keys.event_key(ACCOUNT, "evt-1"),
    keys.dismissal_key(ACCOUNT, "ana", trigger_id="seats-full"),
    keys.dismissal_key(ACCOUNT, None, trigger_id="seats-full"),
    keys.pending_key(ACCOUNT, "seats-full"),
    keys.impressions_key(ACCOUNT, "ana"),
    keys.impressions_key(ACCOUNT, None),
    keys.account_impressions_key(ACCOUNT),
    keys.signal_gate_key(ACCOUNT, "seats-full"),
]


@pytest.mark.parametrize("key", NAMING_AN_ACCOUNT)
def test_the_plan_mirror_and_usage_keys_are_listed_under_their_account(key: str) -> None:
    assert fnmatchcase(key, keys.ACCOUNT_KEYS_PATTERN)
    assert keys.account_id_of(key) == ACCOUNT


@pytest.mark.parametrize("key", BOOKKEEPING)
def test_no_other_key_of_an_account_is_listed(key: str) -> None:
    # The pattern leaves them to Redis to skip (the event keys outnumber all others).
    assert not fnmatchcase(key, keys.ACCOUNT_KEYS_PATTERN)
    assert keys.account_id_of(key) is None


@pytest.mark.parametrize(
    "key",
    [
        "other-app:key",
        "x:nudge:{acme}:account",
        "nudge:{}:account",
        "nudge:{a:b}:account",
        "nudge:{{acme}:account",
        "nudge:{acme}b}:account",
        "nudge:{acme}:accounts",
        "nudge:{acme}:g",
    ],
)
def test_a_key_nudge_did_not_build_names_no_account(key: str) -> None:
    assert keys.account_id_of(key) is None


def test_the_listing_pattern_is_the_one_redis_has_always_been_asked() -> None:
    assert keys.ACCOUNT_KEYS_PATTERN == "nudge:{*}:[acg]*"


def test_a_counter_key_lives_until_36_days_after_its_window_ends() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    late = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # an October event, reported now

    # November ends in 10 days and 12 hours; October ended 19 days and 12 hours ago.
    assert keys.counter_ttl_seconds("month", now, now=now) == ((10 + 36) * 24 + 12) * 3600
    assert keys.counter_ttl_seconds("month", late, now=now) == ((36 - 19) * 24 - 12) * 3600


def test_a_ttl_is_never_below_one_second() -> None:
    assert keys.dismissal_ttl_seconds(timedelta(0)) == 1
    assert keys.signal_gate_ttl_ms(timedelta(0)) == 1
    assert keys.dismissal_ttl_seconds(timedelta(days=2)) == 2 * 24 * 3600


def test_a_hold_over_a_counter_ends_with_its_shortest_window() -> None:
    now = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)

    assert keys.pending_mark_ends(frozenset(), now=now) is None
    assert keys.pending_mark_ends(frozenset({"month", "day"}), now=now) == keys.ms(
        datetime(2026, 11, 21, tzinfo=UTC)
    )


def test_impression_lists_keep_a_week_and_ten_of_each_at_least() -> None:
    assert keys.impressions_horizon_ms(None) == 7 * 24 * 3600 * 1000
    assert keys.impressions_horizon_ms(timedelta(days=1)) == 7 * 24 * 3600 * 1000
    assert keys.impressions_horizon_ms(timedelta(days=30)) == 30 * 24 * 3600 * 1000
    assert keys.impressions_kept(0) == keys.impressions_kept(3) == 10
    assert keys.impressions_kept(25) == 25


def test_the_event_id_ttl_is_the_dedupe_setting() -> None:
    assert keys.event_ttl_seconds(48) == 48 * 3600
