"""Accounts: SQL is the record, Redis holds a mirror of plan and attributes for the prompt path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.clock import Clock
from app.engine import CounterWindow, RuleSet, window_end
from app.errors import InvalidRequest
from app.services.firing import FiringTracker
from app.services.rule_registry import RulesSource
from app.services.signal_feed import Signal, SignalFeed
from app.store.account_mirror import AccountMirrors
from app.store.account_state import StateReader
from app.store.accounts import AccountPatch, AccountRecord, SqlStore


@dataclass(frozen=True, slots=True)
class MetricUsage:
    value: float
    limit: float | None  # None: unlimited on the account's plan
    window: CounterWindow | None = None  # counters only
    resets_at: datetime | None = None  # counters only: when the window ends


@dataclass(frozen=True, slots=True)
class AccountView:
    """An account as GET /v1/accounts/{id} shows it."""

    account_id: str
    plan: str
    attributes: dict[str, Any]
    usage: dict[str, MetricUsage]
    created_at: datetime | None  # None: never PUT
    updated_at: datetime | None
    signals: list[Signal]  # the latest, latest first


@dataclass
class AccountService:
    sql: SqlStore
    mirrors: AccountMirrors
    states: StateReader
    signals: SignalFeed
    firing: FiringTracker
    rules: RulesSource
    clock: Clock

    async def put(
        self, account_id: str, *, plan: str | None, attributes: dict[str, Any] | None
    ) -> AccountView:
        """Create or update the account (an absent plan keeps it, or takes the default
        plan for a new account), mirror it to Redis, and settle what fires for it."""
        rules, now = self.rules.live.rules, self.clock()
        known = ", ".join(sorted(rules.plans))
        if plan is not None and plan not in rules.plans:
            raise InvalidRequest(
                f'unknown plan "{plan}"; the rules define: {known}',
                details=[
                    {"field": "plan", "message": f'"{plan}" is not a plan; use one of: {known}'}
                ],
            )
        if plan is None:
            stored = await self.sql.get_account(account_id)
            if stored is not None and stored.plan not in rules.plans:
                # Keeping a plan the rules no longer have would answer 200 and leave the
                # account without prompts: ask for the plan it is on now.
                raise InvalidRequest(
                    f'the account\'s plan "{stored.plan}" is no longer in the rules; '
                    f"send its current plan, one of: {known}",
                    details=[{"field": "plan", "message": f"is required; use one of: {known}"}],
                )

        async def mirror(record: AccountRecord) -> None:
            await self.mirrors.write(account_id, plan=record.plan, attributes=record.attributes)

        record = await self.sql.put_account(
            account_id,
            AccountPatch(plan=plan, attributes=attributes),
            default_plan=rules.default_plan,
            now=now,
            mirror=mirror,
        )
        await self.firing.settle([account_id], rules=rules, now=now)
        return await self._describe(account_id, record, rules=rules, now=now)

    async def get(self, account_id: str) -> AccountView:
        """The account with its usage; one never PUT is on the rules' default plan."""
        rules, now = self.rules.live.rules, self.clock()
        record = await self.sql.get_account(account_id)
        return await self._describe(account_id, record, rules=rules, now=now)

    async def _describe(
        self, account_id: str, record: AccountRecord | None, *, rules: RuleSet, now: datetime
    ) -> AccountView:
        mirror, usage = await self.states.read_account(account_id, rules, now=now)
        if record is not None and mirror.plan is None:
            # Redis lost the mirror (a flush, a lost AOF): restore it from the record, but
            # only if still missing, so a concurrent PUT's newer mirror is never overwritten.
            await self.mirrors.write(
                account_id, plan=record.plan, attributes=record.attributes, only_if_missing=True
            )
        plan_name = record.plan if record else rules.default_plan
        plan = rules.plans.get(plan_name)
        described = {
            name: MetricUsage(
                value=usage[name],
                limit=plan.limit(name) if plan else None,
                window=metric.window,
                resets_at=window_end(metric.window, now) if metric.window else None,
            )
            for name, metric in rules.metrics.items()
        }
        return AccountView(
            account_id=account_id,
            plan=plan_name,
            attributes=record.attributes if record else {},
            usage=described,
            created_at=record.created_at if record else None,
            updated_at=record.updated_at if record else None,
            signals=await self.signals.latest_for(account_id),
        )
