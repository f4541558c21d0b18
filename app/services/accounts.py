"""Accounts: SQL is the record, Redis holds a mirror of plan and attributes for the prompt path."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.engine import RuleSet, json_number, window_end
from app.errors import InvalidRequest
from app.services.firing import FiringTracker
from app.services.signal_feed import ACCOUNT_SIGNALS, describe_signal
from app.store.account_mirror import AccountMirrors
from app.store.account_state import StateReader
from app.store.accounts import AccountRecord, SqlStore
from app.store.signals import SignalStore


@dataclass
class AccountService:
    sql: SqlStore
    mirrors: AccountMirrors
    states: StateReader
    signals: SignalStore
    firing: FiringTracker

    async def put(
        self,
        account_id: str,
        *,
        plan: str | None,
        attributes: dict[str, Any] | None,
        rules: RuleSet,
        now: datetime,
    ) -> dict[str, Any]:
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
            plan=plan,
            attributes=attributes,
            default_plan=rules.default_plan,
            now=now,
            mirror=mirror,
        )
        await self.firing.settle([account_id], rules=rules, now=now)
        return await self._describe(account_id, record, rules=rules, now=now)

    async def get(self, account_id: str, *, rules: RuleSet, now: datetime) -> dict[str, Any]:
        record = await self.sql.get_account(account_id)
        return await self._describe(account_id, record, rules=rules, now=now)

    async def _describe(
        self, account_id: str, record: AccountRecord | None, *, rules: RuleSet, now: datetime
    ) -> dict[str, Any]:
        mirror, usage = await self.states.read_account(account_id, rules, now=now)
        if record is not None and mirror.plan is None:
            # Redis lost the mirror (a flush, a lost AOF): restore it from the record, but
            # only if still missing, so a concurrent PUT's newer mirror is never overwritten.
            await self.mirrors.write(
                account_id, plan=record.plan, attributes=record.attributes, only_if_missing=True
            )
        plan_name = record.plan if record else rules.default_plan
        plan = rules.plans.get(plan_name)
        described: dict[str, Any] = {}
        for name, metric in rules.metrics.items():
            entry: dict[str, Any] = {
                "value": json_number(usage[name]),
                "limit": json_number(plan.limit(name)) if plan else None,
            }
            if metric.window is not None:
                entry["window"] = metric.window
                entry["resets_at"] = _iso(window_end(metric.window, now))
            described[name] = entry
        signals = await self.signals.for_account(account_id, limit=ACCOUNT_SIGNALS)
        return {
            "account_id": account_id,
            "plan": plan_name,
            "attributes": record.attributes if record else {},
            "usage": described,
            "created_at": _iso(record.created_at) if record else None,
            "updated_at": _iso(record.updated_at) if record else None,
            "signals": [describe_signal(signal) for signal in signals],
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
