"""The bodies of GET /v1/accounts/{account_id}/explain (and of `nudge rules explain
--format json`, which prints the same)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.common import UserId
from app.engine import Decision, Outcome, json_number
from app.services.explain import Explanation


class ExplainQuery(BaseModel):
    """The query of GET /v1/accounts/{account_id}/explain: the prompt request to explain."""

    model_config = ConfigDict(extra="forbid")

    user_id: UserId | None = Field(
        default=None, description="The user asking; omit for the account's anonymous user."
    )
    placement: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="Where the prompt would show; omit for a request without a placement.",
    )


class TriggerDecisionOut(BaseModel):
    trigger: str
    outcome: Outcome = Field(
        description="Where the trigger stopped: `shown` if GET /v1/prompts returns it."
    )
    fires: bool = Field(
        description="It fires for the account: shown, shadow or signal, or held back only by "
        "this user's dismissal, impressions or a cap."
    )
    signal: bool = Field(description="Its `signal:` fires for the account.")
    reason: str = Field(
        description='The outcome in words, such as "below threshold: 2 of 3 seats = 67% < 80%".'
    )

    @classmethod
    def of(cls, decision: Decision) -> TriggerDecisionOut:
        return cls(
            trigger=decision.trigger.id,
            outcome=decision.outcome,
            fires=decision.fires,
            signal=decision.signal,
            reason=decision.reason,
        )


class ExplainOut(BaseModel):
    account_id: str
    plan: str = Field(description="The plan the rules evaluate the account on.")
    plan_is_default: bool = Field(
        description="True when the account was never PUT: it is on the rules' default_plan."
    )
    rules_version: str
    at: datetime = Field(description="The moment the rules were evaluated at.")
    user_id: str | None
    placement: str | None
    usage: dict[str, int | float] = Field(
        description="Every metric's usage (counters: the current window)."
    )
    triggers: list[TriggerDecisionOut] = Field(
        description="Every trigger, in display order (priority, then id)."
    )
    prompts: list[str] = Field(description="The triggers GET /v1/prompts returns, in order.")
    signals: list[str] = Field(description="The triggers whose signal fires for the account.")

    @classmethod
    def of(cls, explanation: Explanation) -> ExplainOut:
        return cls(
            account_id=explanation.account_id,
            plan=explanation.plan,
            plan_is_default=explanation.plan_is_default,
            rules_version=explanation.rules_version,
            at=explanation.at,
            user_id=explanation.user_id,
            placement=explanation.placement,
            usage={name: json_number(value) for name, value in explanation.usage.items()},
            triggers=[TriggerDecisionOut.of(decision) for decision in explanation.decisions],
            prompts=explanation.prompts,
            signals=explanation.signals,
        )
