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
import contextlib
import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime

from app.engine import AccountState, RuleSet, evaluate, holding_triggers, resolve_plan
from app.errors import StoreUnavailable
from app.observability import Metrics
from app.store.account_state import StateReader
from app.store.firing_marks import FiringMarks
from app.store.signals import SignalStore, new_signal

log = logging.getLogger(__name__)
# Accounts of one usage batch settled at once; the rest wait their turn.
CONCURRENCY = 16
# Reads of one account before giving up when its usage keeps changing under us.
SETTLE_ATTEMPTS = 3


@dataclass
class FiringTracker:
    states: StateReader
    marks: FiringMarks
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
            state = await self._settle_pending(account_id, rules=rules, now=now)
            for trigger in evaluate(rules, state, placement=None, now=now).signals:
                await self._record_signal(account_id, trigger.id, rules=rules, state=state, now=now)
        except StoreUnavailable as exc:
            self.metrics.firing_errors.inc()
            log.warning("could not settle triggers of account %s: %s", account_id, exc.message)
        except Exception:
            # The write that brought us here is stored: never fail it for this.
            self.metrics.firing_errors.inc()
            log.exception("could not settle triggers of account %s", account_id)

    async def _settle_pending(
        self, account_id: str, *, rules: RuleSet, now: datetime
    ) -> AccountState:
        """Read the account and write its pending marks from what was read, again if its
        inputs changed meanwhile; the state with the marks as written."""
        for _attempt in range(SETTLE_ATTEMPTS):
            snapshot = await self.states.read_account_state(account_id, rules, now=now)
            state = snapshot.state
            if not rules.held_triggers:
                return state
            holding = holding_triggers(rules, state)
            if await self.marks.mark_pending(
                account_id, rules, holding=holding, now=now, snapshot=snapshot
            ):
                pending = {t: state.pending_since.get(t, now) for t in holding}
                return replace(state, pending_since=pending)
        raise StoreUnavailable(
            f"the account's usage kept changing while its pending triggers were being "
            f"recorded ({SETTLE_ATTEMPTS} tries); its next change settles them"
        )

    async def _record_signal(
        self,
        account_id: str,
        trigger_id: str,
        *,
        rules: RuleSet,
        state: AccountState,
        now: datetime,
    ) -> None:
        trigger = rules.by_id[trigger_id]
        assert trigger.signal is not None
        if not await self.marks.open_signal_gate(
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

        async def store() -> None:
            try:
                await self.signals.add(record)
            except Exception:
                # Not stored: give the claim back, so the account's next change records it,
                # instead of losing it for the cooldown.
                with contextlib.suppress(StoreUnavailable):
                    await self.marks.close_signal_gate(account_id, trigger_id)
                raise

        # The INSERT runs in a worker thread, which a cancelled request does not stop: the
        # write and the claim's fate finish together even then, so a signal that commits
        # keeps its claim (no second one within the cooldown) and one that fails gives
        # it back.
        task = asyncio.ensure_future(store())
        task.add_done_callback(_retrieve)
        await asyncio.shield(task)
        self.metrics.signals_recorded.labels(type=trigger.signal, trigger=trigger_id).inc()


def _retrieve(task: asyncio.Future[None]) -> None:
    """Mark the exception of a task nobody may await any more (its request was cancelled)
    as seen; it released its claim, and the account's next change retries."""
    if not task.cancelled():
        task.exception()
