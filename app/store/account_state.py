"""One account's state in Redis: which keys hold it, and how their values decode.

The prompt path reads these keys in one MGET; the write paths read the account-level
part to settle `for:` marks and signals; `nudge rules impact` reads them in pipelines
for many accounts. All keys carry the account's hash tag, so one MGET reads them on
Redis Cluster too.

Decoding trusts no value. What the state is made of (the plan mirror and the usage)
must be what Nudge wrote, or the read fails with StoreUnavailable, so the prompt path
answers degraded rather than guess. Bookkeeping (pending marks, dismissals,
impressions) that cannot be read counts as absent, so the next write replaces it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.engine import AccountState, Impression, RuleSet, Trigger, window_end, window_id
from app.errors import StoreUnavailable
from app.store import keys

# Millisecond timestamps Nudge writes lie between 1970 and the year 10000.
_MAX_MS = 253_402_300_800_000


@dataclass(frozen=True, slots=True)
class AccountMirror:
    """The account's plan and attributes as mirrored into Redis; None if never PUT."""

    plan: str | None
    attributes: Mapping[str, Any]


class StateRead:
    """The keys of one account's state, and the state from their values.

    Without `for_user`, the state is the account's own: no dismissals nor impressions.
    The first `inputs` keys (the mirror and the usage) are what the account's triggers
    are computed from.
    """

    def __init__(
        self,
        account_id: str,
        rules: RuleSet,
        *,
        now: datetime,
        user_id: str | None = None,
        for_user: bool = False,
    ) -> None:
        self._now = now
        self._usage_keys = usage_keys(account_id, rules, now)
        self._held = rules.held_triggers
        self._prompting = [t for t in rules.triggers if t.prompt is not None] if for_user else []
        self._user_impressions = for_user and rules.reads_user_impressions
        self._account_impressions = for_user and rules.reads_account_impressions
        self.inputs = 1 + len(self._usage_keys)
        self.keys = [
            keys.account_key(account_id),
            *self._usage_keys.values(),
            *(keys.pending_key(account_id, t.id) for t in self._held),
            *(keys.dismissal_key(account_id, user_id, t.id) for t in self._prompting),
        ]
        if self._user_impressions:
            self.keys.append(keys.impressions_key(account_id, user_id))
        if self._account_impressions:
            self.keys.append(keys.account_impressions_key(account_id))

    def decode(self, values: Sequence[Any]) -> AccountState:
        """The state from the values of `keys`, in order (strings, None where missing)."""
        try:
            mirror = decode_mirror(values[0])
            usage = {
                metric: _usage(raw)
                for metric, raw in zip(self._usage_keys, values[1 : self.inputs], strict=True)
                if raw is not None
            }
        except (ValueError, TypeError, RecursionError) as exc:
            raise StoreUnavailable(
                f"a key of the account holds a value Nudge did not write ({exc}); "
                f"inspect the keys {self.keys[0].removesuffix(':account')}:*"
            ) from exc
        rest = iter(values[self.inputs :])
        pending = {
            t.id: since
            for t, raw in zip(self._held, rest, strict=False)
            if (since := _pending_since(raw, t, self._now)) is not None
        }
        dismissed = {
            t.id: at
            for t, raw in zip(self._prompting, rest, strict=False)
            if (at := _time(raw)) is not None
        }
        return AccountState(
            plan=mirror.plan,
            usage=usage,
            dismissed_at=dismissed,
            attributes=mirror.attributes,
            pending_since=pending,
            impressions=_impressions(next(rest)) if self._user_impressions else (),
            account_impressions=_impressions(next(rest)) if self._account_impressions else (),
        )


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """An account-level read: the state, and the raw values it was decoded from."""

    read: StateRead
    values: Sequence[Any]
    state: AccountState

    def inputs(self) -> tuple[list[str], list[str]]:
        """The keys of the mirror and the usage, and the values read ("" where none)."""
        count = self.read.inputs
        return self.read.keys[:count], [v if v is not None else "" for v in self.values[:count]]


def usage_keys(account_id: str, rules: RuleSet, now: datetime) -> dict[str, str]:
    """metric -> the key that holds its current usage (counters: the current window)."""
    return {
        metric.name: (
            keys.gauge_key(account_id, metric.name)
            if metric.window is None
            else keys.counter_key(account_id, metric.name, window_id(metric.window, now))
        )
        for metric in rules.metrics.values()
    }


def pending_mark(trigger: Trigger, *, now: datetime) -> tuple[str, int | None]:
    """The value of a pending mark that starts now, and when (ms) it ends, if it does:
    a hold over a counter ends with the counter's window, whose count starts again at 0."""
    if not trigger.counter_windows:
        return f"{_ms(now)}::{trigger.hold_fingerprint}", None
    ends = _ms(min(window_end(w, now) for w in trigger.counter_windows))
    return f"{_ms(now)}:{ends}:{trigger.hold_fingerprint}", ends


def decode_mirror(raw: str | None) -> AccountMirror:
    if not raw:
        return AccountMirror(plan=None, attributes={})
    data = json.loads(raw)
    plan = data.get("plan") if isinstance(data, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(plan, str) or not isinstance(attributes, dict | None):
        raise ValueError("the plan mirror is not {plan, attributes}")
    return AccountMirror(plan=plan, attributes=attributes or {})


def _usage(raw: str) -> float:
    value = float(raw)
    if not math.isfinite(value):
        raise ValueError(f"usage {raw!r} is not a finite number")
    return value


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def _time(raw: Any) -> datetime | None:
    """A millisecond timestamp Nudge wrote, or None where there is none to read."""
    try:
        ms = int(raw)
    except (TypeError, ValueError, OverflowError):
        return None
    return datetime.fromtimestamp(ms / 1000, UTC) if 0 <= ms < _MAX_MS else None


def _pending_since(raw: str | None, trigger: Trigger, now: datetime) -> datetime | None:
    """When the trigger's hold began, or None: no mark, a mark made for other rules (its
    fingerprint differs), or one whose counter window has ended."""
    if raw is None:
        return None
    since, _, rest = raw.partition(":")
    ends, _, fingerprint = rest.partition(":")
    if fingerprint != trigger.hold_fingerprint:
        return None
    if ends and (_time(ends) or now) <= now:
        return None
    return _time(since)


def _impressions(raw: str | None) -> list[Impression]:
    """The impression list, skipping whatever is not an entry Nudge wrote."""
    try:
        entries = json.loads(raw) if raw else []
    except (ValueError, RecursionError):
        return []
    if not isinstance(entries, list):  # Lua's cjson writes an empty list as {}
        return []
    found = []
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 4):
            continue
        trigger, style, at_ms, _digest = entry
        at = _time(at_ms) if isinstance(at_ms, int | float) else None
        if isinstance(trigger, str) and isinstance(style, str) and at is not None:
            found.append(Impression(trigger, style, at))
    return found
