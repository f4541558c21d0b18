"""What a proposed rule set would change, over every account in the store.

For each account the engine decides every trigger of the live rules and of the
proposed rules with no user and no placement: the account-level view, in which a
trigger fires when its plan filter, threshold, condition and `for:` hold and it wins
its metric, or when its signal fires (a trigger with a prompt and a signal records the
signal even where another trigger's prompt wins the metric). Dismissals, impressions
and caps are one user's matters and do not apply. The tally says, per trigger, for
how many accounts it fires now and would fire, and for how many it starts or stops;
accounts whose keys cannot be decoded are skipped and reported. Reading is the
store's (AccountScan), deciding the engine's; counting is pure and lives here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from app.engine import AccountState, RuleSet, Trigger, evaluate

if TYPE_CHECKING:
    from app.store.account_scan import AccountScan, Unreadable

Presence = Literal["both", "new", "removed"]
Kind = Literal["prompt", "shadow", "signal"]
SKIPPED_SAMPLE = 5  # skipped accounts named in the report


def firing(rules: RuleSet, state: AccountState, *, now: datetime) -> frozenset[str]:
    """The ids of the triggers that fire for the account (no user, no placement): their
    prompt wins its metric, or their signal fires."""
    return frozenset(
        decision.trigger.id
        for decision in evaluate(rules, state, placement=None, now=now).decisions
        if decision.fires or decision.signal
    )


@dataclass
class TriggerImpact:
    """One trigger's counts: accounts it fires for now and would fire for, and the change."""

    trigger: str
    presence: Presence  # in both rule sets, only the proposed (new) or only the live (removed)
    kind: Kind  # a prompt, a shadow-mode prompt, or a signal only (as the proposed set has it)
    now: int = 0
    proposed: int = 0
    started: int = 0
    stopped: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "trigger": self.trigger,
            "presence": self.presence,
            "kind": self.kind,
            "now": self.now if self.presence != "new" else None,
            "proposed": self.proposed if self.presence != "removed" else None,
            "start": self.started,
            "stop": self.stopped,
        }


@dataclass
class ImpactReport:
    live_version: str
    proposed_version: str
    at: datetime
    accounts: int = 0  # accounts decided and counted
    changed: int = 0  # accounts whose set of firing triggers differs
    firing_now: int = 0  # accounts with at least one trigger firing, live rules
    firing_proposed: int = 0  # the same, proposed rules
    triggers: list[TriggerImpact] = field(default_factory=list)
    skipped: int = 0  # accounts left out: their keys hold values Nudge did not write
    skipped_sample: list[Unreadable] = field(default_factory=list)  # the first few

    def as_json(self) -> dict[str, object]:
        return {
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "live_version": self.live_version,
            "proposed_version": self.proposed_version,
            "accounts": self.accounts,
            "changed": self.changed,
            "firing_now": self.firing_now,
            "firing_proposed": self.firing_proposed,
            "triggers": [row.as_json() for row in self.triggers],
            "skipped": self.skipped,
            "skipped_accounts": [skip.account_id for skip in self.skipped_sample],
        }


class ImpactTally:
    """Counts, account by account, what each trigger does under the two rule sets."""

    def __init__(self, live: RuleSet, proposed: RuleSet, *, at: datetime) -> None:
        self._live, self._proposed, self._at = live, proposed, at
        self.report = ImpactReport(live.version, proposed.version, at)
        live_ids = {t.id for t in live.triggers}
        proposed_ids = {t.id for t in proposed.triggers}
        # The proposed set's display order, then what it removes in the live set's order.
        rows = [
            TriggerImpact(t.id, "both" if t.id in live_ids else "new", _kind(t))
            for t in proposed.triggers
        ] + [
            TriggerImpact(t.id, "removed", _kind(t))
            for t in live.triggers
            if t.id not in proposed_ids
        ]
        self.report.triggers = rows
        self._rows = {row.trigger: row for row in rows}

    def add_account(self, live_state: AccountState, proposed_state: AccountState) -> None:
        """One account, as each rule set's metrics see it."""
        self.add(
            firing(self._live, live_state, now=self._at),
            firing(self._proposed, proposed_state, now=self._at),
        )

    def skip(self, unreadable: Unreadable) -> None:
        """An account whose keys could not be decoded: counted apart, named if among the first."""
        self.report.skipped += 1
        if len(self.report.skipped_sample) < SKIPPED_SAMPLE:
            self.report.skipped_sample.append(unreadable)

    def add(self, now: frozenset[str], proposed: frozenset[str]) -> None:
        """One account: the triggers that fire for it under the live and the proposed rules."""
        report = self.report
        report.accounts += 1
        report.firing_now += bool(now)
        report.firing_proposed += bool(proposed)
        if now == proposed:
            for trigger in now:
                row = self._rows[trigger]
                row.now += 1
                row.proposed += 1
            return
        report.changed += 1
        for trigger in now:
            row = self._rows[trigger]
            row.now += 1
            row.stopped += trigger not in proposed
        for trigger in proposed:
            row = self._rows[trigger]
            row.proposed += 1
            row.started += trigger not in now


def _kind(trigger: Trigger) -> Kind:
    if trigger.prompt is None:
        return "signal"
    return "shadow" if trigger.shadow else "prompt"


def tally(
    live: RuleSet,
    proposed: RuleSet,
    *,
    states: Iterable[tuple[AccountState, AccountState]],
    now: datetime,
) -> ImpactReport:
    """The impact over the given (live state, proposed state) pairs: pure, for tests and tools."""
    counts = ImpactTally(live, proposed, at=now)
    for live_state, proposed_state in states:
        counts.add_account(live_state, proposed_state)
    return counts.report


class Progress(Protocol):
    def listed(self, accounts: int) -> None:
        """The scan has found this many accounts so far."""

    def evaluated(self, done: int, total: int) -> None:
        """`done` of `total` accounts are read and counted."""


async def measure_impact(
    scan: AccountScan,
    *,
    live: RuleSet,
    proposed: RuleSet,
    now: datetime,
    progress: Progress | None = None,
) -> ImpactReport:
    """Every account in the store, decided under both rule sets and counted; an account
    whose keys cannot be decoded is skipped (report.skipped)."""
    accounts = await scan.account_ids(on_found=progress.listed if progress else None)
    counts = ImpactTally(live, proposed, at=now)
    done = 0
    async for batch in scan.read_states(accounts, (live, proposed), now=now):
        for _account, (live_state, proposed_state) in batch.states:
            counts.add_account(live_state, proposed_state)
        for unreadable in batch.unreadable:
            counts.skip(unreadable)
        done += len(batch)
        if progress is not None:
            progress.evaluated(done, len(accounts))
    return counts.report
