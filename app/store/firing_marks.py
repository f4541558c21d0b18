"""What fires for an account as a whole, marked in Redis on the write paths: the pending
marks of `for:` triggers (since when each has held) and the claims of signals (once per
trigger's cooldown).

A pending mark is `<since_ms>:<ends_ms>:<fingerprint>`: the fingerprint of the trigger's
rule, so a mark made under other rules is ignored, and when the hold ends (a counter's
window end; empty over gauges). A mark that does not decode counts as absent, and the
next write replaces it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.engine import AccountState, RuleSet, Trigger
from app.store import keys
from app.store.redis_client import StoreClient


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """An account-level read, which marks can be settled against: the state, and the
    value each of its inputs (the mirror and the usage keys) held ("" where none)."""

    state: AccountState
    inputs: Mapping[str, str]  # key -> value read


class FiringMarks:
    def __init__(self, client: StoreClient) -> None:
        self._client = client
        self._settle_pending = client.script("settle_pending")
        self._claim_signal = client.script("claim_signal")

    async def mark_pending(
        self,
        account_id: str,
        rules: RuleSet,
        *,
        holding: Collection[str],
        now: datetime,
        snapshot: AccountSnapshot | None = None,
    ) -> bool:
        """Start the pending mark of each `for:` trigger that holds (unless it has a live
        one) and clear the marks of those that do not.

        With the `snapshot` `holding` was computed from, the marks are written only if the
        account's mirror and usage still hold the values read, checked and written in one
        script: a usage batch that landed in between would make `holding` stale. Returns
        False then, and the caller reads again.
        """
        inputs = snapshot.inputs if snapshot is not None else {}
        marked = snapshot.state.pending_since if snapshot is not None else {}
        script_keys: list[str] = [*inputs]
        args: list[str | int] = [len(inputs), *inputs.values()]
        for trigger in rules.held_triggers:
            script_keys.append(keys.pending_key(account_id, trigger.id))
            if trigger.id not in holding:
                args += ["del", "", 0]
            elif trigger.id in marked:
                args += ["keep", "", 0]
            else:
                value, ends = pending_mark(trigger, now=now)
                args += ["set", value, ends or 0]  # 0: no expiry
        async with self._client.call("recording pending triggers"):
            written = await self._settle_pending(keys=script_keys, args=args)
        return bool(written)

    async def open_signal_gate(
        self, account_id: str, trigger_id: str, *, cooldown: timedelta, now: datetime
    ) -> bool:
        """Claim the right to record the trigger's signal for the account, once per
        cooldown (timed by the service's clock); False if it was claimed within it."""
        async with self._client.call("claiming a signal"):
            claimed = await self._claim_signal(
                keys=[keys.signal_gate_key(account_id, trigger_id)],
                args=[keys.ms(now), keys.signal_gate_ttl_ms(cooldown)],
            )
        return bool(claimed)

    async def close_signal_gate(self, account_id: str, trigger_id: str) -> None:
        """Release a claim whose signal could not be recorded, so the next change retries."""
        async with self._client.call("releasing a signal claim") as redis:
            await redis.delete(keys.signal_gate_key(account_id, trigger_id))


def pending_mark(trigger: Trigger, *, now: datetime) -> tuple[str, int | None]:
    """The value of a pending mark that starts now, and when (ms) it ends, if it does."""
    ends = keys.pending_mark_ends(trigger.counter_windows, now=now)
    return f"{keys.ms(now)}:{ends or ''}:{trigger.hold_fingerprint}", ends


def pending_section(account_id: str, rules: RuleSet) -> dict[str, str]:
    """trigger id -> the key of its pending mark, for each trigger with `for:`."""
    return {trigger.id: keys.pending_key(account_id, trigger.id) for trigger in rules.held_triggers}


def decode_pending(
    values: Mapping[str, str | None], rules: RuleSet, *, now: datetime
) -> dict[str, datetime]:
    """trigger id -> since when it has held, for the triggers with a live mark."""
    return {
        trigger: since
        for trigger, raw in values.items()
        if (since := _pending_since(raw, rules.by_id[trigger], now=now)) is not None
    }


def _pending_since(raw: str | None, trigger: Trigger, *, now: datetime) -> datetime | None:
    """When the trigger's hold began, or None: no mark, a mark made for other rules (its
    fingerprint differs), or one whose counter window has ended."""
    if raw is None:
        return None
    since, _, rest = raw.partition(":")
    ends, _, fingerprint = rest.partition(":")
    if fingerprint != trigger.hold_fingerprint:
        return None
    if ends and (keys.time_of(ends) or now) <= now:
        return None
    return keys.time_of(since)
