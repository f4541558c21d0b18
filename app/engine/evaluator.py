"""The prompts one account's user sees, rendered, from a snapshot of its state.

Which triggers show is decided in decisions.py (the steps of the rule format, with
the reason for each trigger); this module renders the ones shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.engine.decisions import Decision, decide, resolve_plan
from app.engine.model import AccountState, Plan, RuleSet, Trigger
from app.engine.templating import placeholder_values, plan_placeholder_values


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    trigger: str
    metric: str | None  # None for a trigger with only a condition, and so are usage and limit
    usage: float | None
    limit: float | None
    plan: str
    upgrade_plan: str | None
    style: str
    title: str
    body: str | None
    cta_label: str | None
    cta_url: str | None


def evaluate(
    rules: RuleSet, state: AccountState, *, placement: str | None, now: datetime
) -> list[RenderedPrompt]:
    """The prompts to show now, rendered, in display order."""
    return shown_prompts(rules, state, decide(rules, state, placement=placement, now=now))


def shown_prompts(
    rules: RuleSet, state: AccountState, decisions: Sequence[Decision]
) -> list[RenderedPrompt]:
    """The prompts of the decisions `shown`, rendered, in display order."""
    plan = resolve_plan(rules, state)
    if plan is None:
        return []
    return [
        render(rules, plan, decision.trigger, decision.usage)
        for decision in decisions
        if decision.outcome == "shown"
    ]


def render(rules: RuleSet, plan: Plan, trigger: Trigger, usage: float | None) -> RenderedPrompt:
    """The trigger's prompt for an account on `plan` (`usage`: None without a metric)."""
    upgrade = rules.plans.get(plan.upgrade_to) if plan.upgrade_to else None
    if trigger.metric is None or usage is None:
        # The loader refuses the metric's placeholders in such a trigger's texts.
        limit = None
        values = plan_placeholder_values(plan=plan.name, upgrade_plan=plan.upgrade_to)
    else:
        limit = plan.limit(trigger.metric)
        values = placeholder_values(
            usage=usage,
            limit=limit,
            metric=trigger.metric,
            plan=plan.name,
            upgrade_plan=plan.upgrade_to,
            upgrade_limit=upgrade.limit(trigger.metric) if upgrade else None,
        )
    prompt = trigger.prompt
    assert prompt is not None, "a signal-only trigger is never rendered"
    return RenderedPrompt(
        trigger=trigger.id,
        metric=trigger.metric,
        usage=usage,
        limit=limit,
        plan=plan.name,
        upgrade_plan=plan.upgrade_to,
        style=prompt.style,
        title=prompt.title.render(values),
        body=prompt.body.render(values) if prompt.body else None,
        cta_label=prompt.cta_label.render(values) if prompt.cta_label else None,
        cta_url=prompt.cta_url.render(values) if prompt.cta_url else None,
    )
