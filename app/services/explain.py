"""Why, per account: every trigger's decision for one account's user, in words.

The API (`GET /v1/accounts/{id}/explain`) and the CLI (`nudge rules explain`) both
answer with `explain_account`: the account's state read as the prompt path reads it
(one MGET), then the prompt path's own `evaluate`, so the explanation is what
`GET /v1/prompts` would do at that moment, step by step.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.engine import Decision, RuleSet, evaluate, json_number
from app.store.account_state import StateReader


async def explain_account(
    states: StateReader,
    rules: RuleSet,
    account_id: str,
    *,
    user_id: str | None,
    placement: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The account's plan and usage, and one entry per trigger in display order.

    `user_id` None is the account's anonymous user, as in GET /v1/prompts. Raises
    StoreUnavailable when Redis does not answer.
    """
    state = await states.read_state(account_id, user_id, rules, now=now)
    decisions = evaluate(rules, state, placement=placement, now=now).decisions
    return {
        "account_id": account_id,
        "plan": state.plan if state.plan is not None else rules.default_plan,
        "plan_is_default": state.plan is None,
        "rules_version": rules.version,
        "at": now.isoformat().replace("+00:00", "Z"),
        "user_id": user_id,
        "placement": placement,
        "usage": {name: json_number(state.usage.get(name, 0.0)) for name in rules.metrics},
        "triggers": [_trigger_json(decision) for decision in decisions],
        "prompts": [d.trigger.id for d in decisions if d.outcome == "shown"],
        "signals": [d.trigger.id for d in decisions if d.signal],
    }


def _trigger_json(decision: Decision) -> dict[str, Any]:
    return {
        "trigger": decision.trigger.id,
        "outcome": decision.outcome,
        "fires": decision.fires,
        "signal": decision.signal,
        "reason": decision.reason,
    }
