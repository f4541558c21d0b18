"""The one evaluation of the rules for one account's user at one moment.

`evaluate` is what the prompt path, explain, rule tests, impact and the engine's own
tests call, so each of them sees what the service answers. Which triggers show, and
why, is decided in decisions.py (the steps of the rule format); the prompts shown
are rendered here, when first asked for: explain and impact never render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.engine.model.decisions import Decision, decide, resolve_plan
from app.engine.model.rule_set import Plan, RuleSet, Trigger
from app.engine.model.state import AccountState
from app.engine.model.templating import placeholder_values, plan_placeholder_values
from app.engine.vocabulary import PromptStyle


@dataclass(frozen=True, slots=True)
class RenderedPrompt:
    """A prompt as the user gets it: its trigger's texts rendered for the account."""

    trigger: str
    metric: str | None  # None for a trigger with only a condition, and so are usage and limit
    usage: float | None
    limit: float | None
    plan: str
    upgrade_plan: str | None
    style: PromptStyle
    title: str
    body: str | None
    cta_label: str | None
    cta_url: str | None


@dataclass(slots=True)
class Evaluation:
    """Every trigger's decision for one account's user, in display order, and what follows.

    Built on every prompt request: a plain slotted class (a frozen one, or a
    cached_property, costs the prompt path measurably), its prompts rendered once, when
    first asked for.
    """

    rules: RuleSet
    state: AccountState
    decisions: list[Decision]
    _prompts: list[RenderedPrompt] | None = field(default=None, init=False, repr=False)

    @property
    def prompts(self) -> list[RenderedPrompt]:
        """The prompts of the decisions `shown`, rendered, in display order."""
        if self._prompts is None:
            self._prompts = self._render()
        return self._prompts

    @property
    def signals(self) -> list[Trigger]:
        """The triggers whose signal fires for the account (shadow triggers never signal)."""
        return [decision.trigger for decision in self.decisions if decision.signal]

    def _render(self) -> list[RenderedPrompt]:
        plan = resolve_plan(self.rules, self.state)
        if plan is None:
            return []
        return [
            render(self.rules, decision.trigger, plan=plan, usage=decision.usage)
            for decision in self.decisions
            if decision.outcome == "shown"
        ]


def evaluate(
    rules: RuleSet,
    state: AccountState,
    *,
    placement: str | None,
    now: datetime,
    prompts_only: bool = False,
) -> Evaluation:
    """Decide every trigger of `rules` for the account's user at `now`, in display order.

    `prompts_only` leaves out the signal-only triggers, which never show and take no
    part in choosing what shows: the prompt path's shortcut. Its decisions then lack
    those triggers, so its `signals` are not the account's.
    """
    decisions = decide(rules, state, placement=placement, now=now, prompts_only=prompts_only)
    return Evaluation(rules, state, decisions)


def render(rules: RuleSet, trigger: Trigger, *, plan: Plan, usage: float | None) -> RenderedPrompt:
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
