"""What fires for an account as a whole, kept up to date where its inputs change.

The prompt path never writes, so the account-level state that needs writing is
settled on the write paths, after a usage batch and after a PUT of the account:

- `for:` triggers: a pending mark is started when the trigger's threshold and
  condition hold, and cleared when they do not, so the prompt path can tell how long
  it has held;
- signals: a trigger with `signal:` that fires records a signal in SQL, at most once
  per account and trigger per cooldown (a Redis claim that expires with the cooldown).

A failure here never fails the write that caused it (the usage is stored, the
account is saved): it is logged and counted, and the account's next change settles
it again. A signal whose SQL write failed releases its claim, so it is not lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from app.engine.decisions import firing_signals, holding_triggers
from app.engine.evaluator import resolve_plan
from app.engine.model import AccountState, RuleSet
from app.errors import StoreUnavailable
from app.observability import Metrics
from app.store.counters import CounterStore
from app.store.signals import SignalStore, new_signal

log = logging.getLogger(__name__)
# Accounts of one usage batch settled at once; the rest wait their turn.
CONCURRENCY = 16


@dataclass
class FiringTracker:
    counters: CounterStore
    signals: SignalStore
    metrics: Metrics

    async def settle(self, account_ids: Collection[str], *, rules: RuleSet, now: datetime) -> None:
        """Bring the pending marks and signals of these accounts up to date."""
        if not rules.held_triggers and not any(t.signal for t in rules.triggers):
            return
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(account_id: str) -> None:
            async with limit:
                await self._settle_account(account_id, rules=rules, now=now)

        await asyncio.gather(*(one(account_id) for account_id in account_ids))

    async def _settle_account(self, account_id: str, *, rules: RuleSet, now: datetime) -> None:
        try:
            state = await self.counters.read_account_state(account_id, rules, now=now)
            if rules.held_triggers:
                holding = holding_triggers(rules, state)
                await self.counters.mark_pending(
                    account_id, rules, holding, marked=state.pending_since.keys(), now=now
                )
                state = _with_marks(state, holding, now=now)
            for trigger in firing_signals(rules, state, now=now):
                await self._record_signal(account_id, trigger.id, rules, state, now=now)
        except StoreUnavailable as exc:
            self.metrics.firing_errors.inc()
            log.warning("could not settle triggers of account %s: %s", account_id, exc.message)

    async def _record_signal(
        self,
        account_id: str,
        trigger_id: str,
        rules: RuleSet,
        state: AccountState,
        *,
        now: datetime,
    ) -> None:
        trigger = rules.by_id[trigger_id]
        assert trigger.signal is not None
        if not await self.counters.open_signal_gate(
            account_id, trigger_id, cooldown=trigger.cooldown, now=now
        ):
            return
        plan = resolve_plan(rules, state)
        assert plan is not None  # a trigger fired, so the plan is in the rules
        record = new_signal(
            trigger.signal,
            account_id=account_id,
            trigger_id=trigger_id,
            plan=plan.name,
            usage={metric: state.usage.get(metric) for metric in rules.metrics},
            fired_at=now,
        )
        try:
            await self.signals.add(record)
        except StoreUnavailable:
            await self.counters.close_signal_gate(account_id, trigger_id)
            raise
        self.metrics.signals_recorded.labels(type=trigger.signal, trigger=trigger_id).inc()


def _with_marks(state: AccountState, holding: Collection[str], *, now: datetime) -> AccountState:
    """The state as it is after mark_pending: marks kept or started, the others cleared."""
    pending = {trigger_id: state.pending_since.get(trigger_id, now) for trigger_id in holding}
    return replace(state, pending_since=pending)
