"""Every Redis key Nudge writes, built in one place.

All keys of one account share the hash tag `{<account_id>}`, so they live in one
Redis Cluster slot and a multi-key read or script for one account stays on one
node. Account and user ids are restricted to `A-Z a-z 0-9 . _ @ + -`, so no id can
contain `{`, `}` or `:` and reach into another account's keys.
"""

from __future__ import annotations

PREFIX = "nudge"


def account_tag(account_id: str) -> str:
    return f"{PREFIX}:{{{account_id}}}"


def account_key(account_id: str) -> str:
    """JSON of the account's plan and attributes, mirrored from SQL. No TTL."""
    return f"{account_tag(account_id)}:account"


def gauge_key(account_id: str, metric: str) -> str:
    """A gauge's current level. No TTL: a level holds until the app moves it."""
    return f"{account_tag(account_id)}:g:{metric}"


def counter_key(account_id: str, metric: str, window_id: str) -> str:
    """A counter's count in one calendar window; expires a while after the window ends."""
    return f"{account_tag(account_id)}:c:{metric}:{window_id}"


def event_key(account_id: str, event_id: str) -> str:
    """Marks a usage event id as applied; expires after the dedupe window."""
    return f"{account_tag(account_id)}:ev:{event_id}"


def dismissal_key(account_id: str, user_id: str | None, trigger_id: str) -> str:
    """When a user (or the anonymous user) dismissed a trigger; expires with the cooldown."""
    who = f"u:{user_id}" if user_id is not None else "anon"
    return f"{account_tag(account_id)}:d:{trigger_id}:{who}"


def pending_key(account_id: str, trigger_id: str) -> str:
    """Since when (ms) a trigger with `for:` holds for the account; gone when it stops."""
    return f"{account_tag(account_id)}:pending:{trigger_id}"


def impressions_key(account_id: str, user_id: str | None) -> str:
    """JSON list of the prompts shown to a user (or the anonymous user), recent ones only."""
    who = f"u:{user_id}" if user_id is not None else "anon"
    return f"{account_tag(account_id)}:imp:{who}"


def account_impressions_key(account_id: str) -> str:
    """JSON list of the prompts shown to any user of the account, recent ones only."""
    return f"{account_tag(account_id)}:imp:account"


def signal_gate_key(account_id: str, trigger_id: str) -> str:
    """Set when a trigger's signal was recorded for the account; expires with its cooldown."""
    return f"{account_tag(account_id)}:sig:{trigger_id}"
