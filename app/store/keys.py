"""Every Redis key Nudge writes: its builder, how long it lives, and how a key is parsed.

All keys of one account share the hash tag `{<account_id>}`, so they live in one
Redis Cluster slot and a multi-key read or script for one account stays on one
node. Account and user ids are restricted to `A-Z a-z 0-9 . _ @ + -`, so no id can
contain `{`, `}` or `:` and reach into another account's keys.

Times in keys and their expiries are milliseconds since the epoch. The store's
modules take every TTL from here, and its Lua scripts take them as arguments.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from app.engine import CounterWindow, window_end

PREFIX = "nudge"

# The part of each key after the account's tag: its family.
ACCOUNT = "account"
GAUGE = "g"
COUNTER = "c"
EVENT = "ev"
DISMISSAL = "d"
PENDING = "pending"
IMPRESSIONS = "imp"
SIGNAL_GATE = "sig"


def account_tag(account_id: str) -> str:
    return f"{PREFIX}:{{{account_id}}}"


def account_key(account_id: str) -> str:
    """JSON of the account's plan and attributes, mirrored from SQL. No TTL."""
    return f"{account_tag(account_id)}:{ACCOUNT}"


def gauge_key(account_id: str, metric: str) -> str:
    """A gauge's current level. No TTL: a level holds until the app moves it."""
    return f"{account_tag(account_id)}:{GAUGE}:{metric}"


def counter_key(account_id: str, metric: str, *, window_id: str) -> str:
    """A counter's count in one calendar window; expires a while after the window ends."""
    return f"{account_tag(account_id)}:{COUNTER}:{metric}:{window_id}"


def event_key(account_id: str, event_id: str) -> str:
    """Marks a usage event id as applied; expires after the dedupe window."""
    return f"{account_tag(account_id)}:{EVENT}:{event_id}"


def dismissal_key(account_id: str, user_id: str | None, *, trigger_id: str) -> str:
    """When a user (or the anonymous user) dismissed a trigger; expires with the cooldown."""
    return f"{account_tag(account_id)}:{DISMISSAL}:{trigger_id}:{_who(user_id)}"


def pending_key(account_id: str, trigger_id: str) -> str:
    """Since when (ms) a trigger with `for:` holds for the account; gone when it stops."""
    return f"{account_tag(account_id)}:{PENDING}:{trigger_id}"


def impressions_key(account_id: str, user_id: str | None) -> str:
    """JSON list of the prompts shown to a user (or the anonymous user), recent ones only."""
    return f"{account_tag(account_id)}:{IMPRESSIONS}:{_who(user_id)}"


def account_impressions_key(account_id: str) -> str:
    """JSON list of the prompts shown to any user of the account, recent ones only."""
    return f"{account_tag(account_id)}:{IMPRESSIONS}:account"


def signal_gate_key(account_id: str, trigger_id: str) -> str:
    """When (ms) a trigger's signal was last claimed for the account; expires with its cooldown."""
    return f"{account_tag(account_id)}:{SIGNAL_GATE}:{trigger_id}"


def _who(user_id: str | None) -> str:
    return f"u:{user_id}" if user_id is not None else "anon"


# -- how long each key lives ------------------------------------------------------------

# The oldest usage event accepted (services/usage.py refuses older ones): a counter's
# window key must outlive its window by as much, or a late event would start it again.
MAX_EVENT_AGE = timedelta(days=35)
# A counter's window key is kept this long after the window ends (renewed on each
# write): a day beyond the oldest event accepted, and then it expires.
WINDOW_RETENTION = MAX_EVENT_AGE + timedelta(days=1)
# Impression lists are kept at least this long, and keep at least this many of each
# style and trigger, so caps added to the rules later count the prompts shown meanwhile.
IMPRESSIONS_KEPT_FOR = timedelta(days=7)
IMPRESSIONS_KEPT_EACH = 10


def counter_ttl_seconds(window: CounterWindow, at: datetime, *, now: datetime) -> int:
    """From now, the life of the key of `window` that holds an event at `at`."""
    return _seconds(window_end(window, at) - now + WINDOW_RETENTION)


def event_ttl_seconds(dedupe_ttl_hours: int) -> int:
    """An event id is a duplicate for NUDGE_DEDUPE_TTL_HOURS from the first time it is seen."""
    return dedupe_ttl_hours * 3600


def dismissal_ttl_seconds(cooldown: timedelta) -> int:
    """A dismissal hides its trigger from the user for the trigger's cooldown."""
    return _seconds(cooldown)


def pending_mark_ends(counter_windows: Collection[CounterWindow], *, now: datetime) -> int | None:
    """When (ms) a hold that starts now ends, if it does: a hold over a counter ends with
    the counter's window, whose count starts again at 0; one over gauges does not."""
    if not counter_windows:
        return None
    return ms(min(window_end(window, now) for window in counter_windows))


def impressions_horizon_ms(horizon: timedelta | None) -> int:
    """How far back (and so how long) impression lists keep what was shown: the rules'
    longest `per` of max_impressions and caps, and at least IMPRESSIONS_KEPT_FOR."""
    return _ms_span(max(horizon or IMPRESSIONS_KEPT_FOR, IMPRESSIONS_KEPT_FOR))


def impressions_kept(count: int) -> int:
    """How many impressions of each style and trigger a list keeps: the rules' largest
    count, and at least IMPRESSIONS_KEPT_EACH."""
    return max(count, IMPRESSIONS_KEPT_EACH)


def signal_gate_ttl_ms(cooldown: timedelta) -> int:
    """A signal is claimed once per the trigger's cooldown; the claim's TTL only cleans up
    (the claim script compares times itself)."""
    return _ms_span(cooldown)


def _seconds(span: timedelta) -> int:
    # At least 1: a TTL of 0 would mean no expiry to the scripts, and an error to SET.
    return max(int(span.total_seconds()), 1)


def _ms_span(span: timedelta) -> int:
    return max(int(span.total_seconds() * 1000), 1)


# -- times as keys hold them --------------------------------------------------------------

# Millisecond timestamps Nudge writes lie between 1970 and the year 10000.
_MAX_MS = 253_402_300_800_000


def ms(at: datetime) -> int:
    """A time as keys hold it."""
    return int(at.timestamp() * 1000)


def time_of(raw: Any) -> datetime | None:
    """A time a key holds (a millisecond timestamp Nudge wrote), or None where there is
    none to read."""
    try:
        at_ms = int(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return datetime.fromtimestamp(at_ms / 1000, UTC) if 0 <= at_ms < _MAX_MS else None


# -- which account a key belongs to -------------------------------------------------------

# The kinds of key that name an account in a listing: the plan mirror and the usage
# keys (so an account that reported usage but was never PUT counts too); not the
# per-event keys, which outnumber all others, nor a user's bookkeeping. SCAN walks every
# key whatever the pattern, so one pattern beats a pass per kind: it narrows by the
# kinds' first letters, which no other family starts with (tests/unit/test_keys.py).
_NAMING_AN_ACCOUNT = (ACCOUNT, GAUGE, COUNTER)
ACCOUNT_KEYS_PATTERN = (
    f"{account_tag('*')}:[{''.join(sorted({kind[0] for kind in _NAMING_AN_ACCOUNT}))}]*"
)


def account_id_of(key: str) -> str | None:
    """The account a plan-mirror or usage key belongs to; None for any other key."""
    account_id = key.partition("{")[2].partition("}")[0]
    tag = f"{account_tag(account_id)}:"
    if not account_id or not key.startswith(tag) or any(c in account_id for c in "{:"):
        return None
    kind = key.removeprefix(tag)
    if kind == ACCOUNT or kind.startswith((f"{GAUGE}:", f"{COUNTER}:")):
        return account_id
    return None
