"""Decide which prompts one account's user sees, from a snapshot of its state.

Order of decisions, as the rule format defines it: the plan and placement filters
apply first; a trigger fires when its threshold (if any) is met and its condition
(if any) holds; of the triggers that fire on one metric the one with the highest
threshold level wins (ties by priority, then id), while a trigger with only a
condition competes with none; then dismissals hide what is in its cooldown; what
is left is ordered by priority (higher first), then id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.engine.expressions import Environment
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


def resolve_plan(rules: RuleSet, state: AccountState) -> Plan | None:
    """The account's plan; None when it names a plan the rules no longer have."""
    return rules.plans.get(state.plan if state.plan is not None else rules.default_plan)


def firing_triggers(
    rules: RuleSet, state: AccountState, *, placement: str | None
) -> dict[str, Trigger]:
    """The one winning trigger per metric, before dismissals are applied.

    Keyed by metric; a trigger with only a condition forms its own group, keyed
    `when:<trigger id>` (no metric name contains a colon).
    """
    plan = resolve_plan(rules, state)
    if plan is None:
        return {}
    environment: Environment | None = None
    winners: dict[str, tuple[float, int, tuple[int, ...]]] = {}
    chosen: dict[str, Trigger] = {}
    for trigger in rules.triggers_by_plan[plan.name]:
        if not trigger.shows_in(placement):
            continue
        level = 0.0
        if trigger.metric is not None and trigger.threshold is not None:
            limit = plan.limit(trigger.metric)
            if not trigger.threshold.is_met(state.usage.get(trigger.metric, 0.0), limit):
                continue
            met_level = trigger.threshold.level(limit)
            assert met_level is not None  # a met threshold has a level
            level = met_level
        if trigger.condition is not None:
            if environment is None:  # built once, for the first trigger that needs it
                environment = condition_environment(rules, plan, state)
            if not trigger.condition.holds(environment):
                continue
        group = trigger.metric if trigger.metric is not None else f"when:{trigger.id}"
        # Highest level wins, then highest priority, then the smallest id.
        rank = (level, trigger.priority, _reverse(trigger.id))
        best = winners.get(group)
        if best is None or rank > best:
            winners[group] = rank
            chosen[group] = trigger
    return chosen


def condition_environment(rules: RuleSet, plan: Plan, state: AccountState) -> Environment:
    """What conditions see of one account: usage, the plan's limits (None: unlimited)."""
    return Environment(
        usage=state.usage,
        limits={name: plan.limit(name) for name in rules.metrics},
        plan=plan.name,
        attributes=state.attributes,
    )


def evaluate(
    rules: RuleSet, state: AccountState, *, placement: str | None, now: datetime
) -> list[RenderedPrompt]:
    """The prompts to show now, rendered, in display order."""
    plan = resolve_plan(rules, state)
    if plan is None:
        return []
    shown = [
        trigger
        for trigger in firing_triggers(rules, state, placement=placement).values()
        if not in_cooldown(trigger, state, now=now)
    ]
    shown.sort(key=lambda t: (-t.priority, t.id))
    return [render(rules, plan, trigger, _usage(trigger, state)) for trigger in shown]


def _usage(trigger: Trigger, state: AccountState) -> float | None:
    return None if trigger.metric is None else state.usage.get(trigger.metric, 0.0)


def in_cooldown(trigger: Trigger, state: AccountState, *, now: datetime) -> bool:
    dismissed_at = state.dismissed_at.get(trigger.id)
    return dismissed_at is not None and now < dismissed_at + trigger.cooldown


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


def _reverse(text: str) -> tuple[int, ...]:
    """A key that sorts strings in reverse, so `max` prefers the smallest id."""
    return (*(-ord(char) for char in text), 0)
