"""Why, per account: every trigger's decision for one account's user, in words.

The API (`GET /v1/accounts/{id}/explain`) and the CLI (`nudge rules explain`) both
answer with `ExplainService`: the account's state read as the prompt path reads it
(one MGET), then the prompt path's own `evaluate`, so the explanation is what
`GET /v1/prompts` would do at that moment, step by step.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.clock import Clock
from app.engine import Decision, evaluate
from app.services.rule_registry import RulesSource
from app.store.account_state import StateReader


@dataclass(frozen=True, slots=True)
class Explanation:
    account_id: str
    plan: str  # the plan the rules evaluate the account on
    plan_is_default: bool  # never PUT: on the rules' default_plan
    rules_version: str
    at: datetime
    user_id: str | None
    placement: str | None
    usage: dict[str, float]  # every metric of the rules (counters: the current window)
    decisions: tuple[Decision, ...]  # every trigger, in display order

    @property
    def prompts(self) -> list[str]:
        """The triggers GET /v1/prompts returns, in order."""
        return [d.trigger.id for d in self.decisions if d.outcome == "shown"]

    @property
    def signals(self) -> list[str]:
        """The triggers whose signal fires for the account."""
        return [d.trigger.id for d in self.decisions if d.signal]


@dataclass
class ExplainService:
    states: StateReader
    rules: RulesSource
    clock: Clock

    async def explain(
        self, account_id: str, *, user_id: str | None, placement: str | None
    ) -> Explanation:
        """The account's plan and usage, and every trigger's decision in display order.

        `user_id` None is the account's anonymous user, as in GET /v1/prompts. Raises
        StoreUnavailable when Redis does not answer.
        """
        rules, now = self.rules.live.rules, self.clock()
        state = await self.states.read_state(account_id, user_id, rules=rules, now=now)
        evaluation = evaluate(rules, state, placement=placement, now=now)
        return Explanation(
            account_id=account_id,
            plan=state.plan if state.plan is not None else rules.default_plan,
            plan_is_default=state.plan is None,
            rules_version=rules.version,
            at=now,
            user_id=user_id,
            placement=placement,
            usage={name: state.usage.get(name, 0.0) for name in rules.metrics},
            decisions=tuple(evaluation.decisions),
        )
