"""Why each trigger shows or not, for one account's user at one moment.

`decide` walks every trigger through the steps of the rule format and stops at the
first one it fails; `evaluate` (evaluation.py) is its one caller, so the prompt path,
explain, rule tests and impact share one evaluation:

1. plan: the trigger's `plans`, or else any plan with an `upgrade_to`;
2. threshold (usage against the plan's limit) and `when:` condition;
3. `for:`: the threshold and condition must have held that long (else pending);
   a trigger that got this far *holds* for the account, and its signal fires;
4. placement;
5. one prompt per metric: the highest threshold level wins, then priority, then id;
   a trigger with only a condition competes with none, a signal-only trigger shows
   nothing, and shadow triggers never take a live trigger's place;
6. this user's dismissal (cooldown) and the trigger's `max_impressions`;
7. the rule set's caps, in display order, counting the prompts of this answer too.

Shadow triggers go through the same steps against the live triggers and each
other, and end as `shadow` where a live one would be shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from app.engine.expressions import Environment
from app.engine.model import reasons
from app.engine.model.rule_set import Cap, Plan, RuleSet, Trigger
from app.engine.model.state import AccountState, Impression
from app.engine.vocabulary import Outcome

# The outcomes at which a trigger fires for the account (only this user's own history
# or caps hold its prompt back).
FIRING: frozenset[Outcome] = frozenset(
    {"shown", "shadow", "signal", "cooldown", "max_impressions", "capped"}
)


@dataclass(slots=True)
class Decision:
    """Where one trigger stopped, with the facts that explain it.

    Built on every prompt request, so it is a plain (not frozen) slotted class,
    completed in place by the later steps; its reason is only put in words on demand.
    """

    trigger: Trigger
    outcome: Outcome
    plan: str | None = None
    usage: float | None = None
    limit: float | None = None
    condition_note: str | None = None  # why a condition could not be decided
    since: datetime | None = None  # pending since, dismissed at
    until: datetime | None = None  # pending until, cooldown until, impressions free again
    shown: int = 0  # impressions counted against max_impressions or a cap
    winner: str | None = None  # the trigger that outranks this one
    winner_held_back: Outcome | None = None  # why that winner is not shown to this user
    cap: Cap | None = None
    taken_by: tuple[str, ...] = ()  # the prompts of this answer that filled the cap
    placement: str | None = None
    holds: bool = False  # reached step 3: the trigger fires for the account

    @property
    def fires(self) -> bool:
        """Whether the trigger fires for the account, whatever this user has seen."""
        return self.outcome in FIRING

    @property
    def signal(self) -> bool:
        """Whether the trigger's signal fires (shadow triggers never signal)."""
        return self.holds and self.trigger.signal is not None and not self.trigger.shadow

    @property
    def reason(self) -> str:
        """The outcome in words a product manager reads (see reasons.py)."""
        return reasons.in_words(self)


def decide(
    rules: RuleSet,
    state: AccountState,
    *,
    placement: str | None,
    now: datetime,
    prompts_only: bool = False,
) -> list[Decision]:
    """One decision per trigger of the rule set (`prompts_only`: per trigger with a
    prompt), in display order; called through `evaluate`."""
    triggers = rules.prompt_triggers if prompts_only else rules.triggers
    plan = resolve_plan(rules, state)
    if plan is None:
        return [Decision(t, "unknown_plan", plan=state.plan) for t in triggers]
    account = _Account(rules, plan, state)
    decided = [_gate(trigger, account, placement=placement, now=now) for trigger in triggers]
    _select(decided)
    _apply_history(decided, account, now=now)
    return decided


def resolve_plan(rules: RuleSet, state: AccountState) -> Plan | None:
    """The account's plan; None when it names a plan the rules no longer have."""
    return rules.plans.get(state.plan if state.plan is not None else rules.default_plan)


def holding_triggers(rules: RuleSet, state: AccountState) -> set[str]:
    """Of the triggers with `for:`, those whose plan filter, threshold and condition hold
    now: the ones whose pending mark the store keeps (and clears for the others)."""
    plan = resolve_plan(rules, state)
    if plan is None:
        return set()
    account = _Account(rules, plan, state)
    holding: set[str] = set()
    for trigger in rules.held_triggers:
        usage, limit = account.usage_and_limit(trigger)
        if _stop_before_hold(trigger, account, usage=usage, limit=limit) is None:
            holding.add(trigger.id)
    return holding


@dataclass(slots=True)
class _Account:
    """The account as the steps see it: the rules, its plan and its state, and the
    environment its conditions see, built for the first trigger that has a condition."""

    rules: RuleSet
    plan: Plan
    state: AccountState
    _environment: Environment | None = field(default=None, init=False)

    def usage_and_limit(self, trigger: Trigger) -> tuple[float | None, float | None]:
        """The usage and limit of the trigger's metric; both None without one."""
        if trigger.metric is None:
            return None, None
        return self.state.usage.get(trigger.metric, 0.0), self.plan.limits.get(trigger.metric)

    def environment(self) -> Environment:
        """What conditions see of the account: usage, the plan's limits (None: unlimited)."""
        if self._environment is None:
            self._environment = Environment(
                usage=self.state.usage,
                limits={name: self.plan.limit(name) for name in self.rules.metrics},
                plan=self.plan.name,
                attributes=self.state.attributes,
            )
        return self._environment


def _stop_before_hold(
    trigger: Trigger, account: _Account, *, usage: float | None, limit: float | None
) -> Decision | None:
    """Steps 1 and 2: the decision that stops the trigger there, or None."""
    plan = account.plan
    if not trigger.applies_to(plan):
        outcome: Outcome = "not_for_plan" if trigger.plans is not None else "no_upgrade"
        return Decision(trigger, outcome, plan.name)
    threshold = trigger.threshold
    if threshold is not None:
        if threshold.percent and (limit is None or limit <= 0):
            return Decision(trigger, "no_limit", plan.name, usage, limit)
        if not threshold.is_met(usage or 0.0, limit):
            return Decision(trigger, "below_threshold", plan.name, usage, limit)
    if trigger.condition is not None:
        holds, note = trigger.condition.outcome(account.environment())
        if not holds:
            return Decision(
                trigger, "condition_false", plan.name, usage, limit, condition_note=note
            )
    return None


def _gate(trigger: Trigger, account: _Account, *, placement: str | None, now: datetime) -> Decision:
    """Steps 1 to 4: where the trigger stops, or a `shown` candidate for selection."""
    usage, limit = account.usage_and_limit(trigger)
    stopped = _stop_before_hold(trigger, account, usage=usage, limit=limit)
    if stopped is not None:
        return stopped
    plan = account.plan
    since = None
    if trigger.hold_for is not None:
        since = account.state.pending_since.get(trigger.id)
        if since is None or now < since + trigger.hold_for:
            until = since + trigger.hold_for if since is not None else None
            return Decision(trigger, "pending", plan.name, usage, limit, since=since, until=until)
    held = Decision(trigger, "shown", plan.name, usage, limit, since=since, holds=True)
    if trigger.prompt is None:
        held.outcome = "signal"
    elif not trigger.shows_in(placement):
        held.outcome, held.placement = "placement", placement
    return held


def _select(decided: list[Decision]) -> None:
    """Step 5: one prompt per metric: the highest threshold level wins. Decisions come in
    display order (priority, then id), so of equal levels the first one found wins, as
    the format's ties go. Live candidates compete among themselves; each shadow
    candidate competes with the live ones and the other shadow ones."""
    live: dict[str, tuple[float, Decision]] = {}
    every: dict[str, tuple[float, Decision]] = {}
    for decision in decided:
        trigger = decision.trigger
        if decision.outcome != "shown" or trigger.metric is None or trigger.threshold is None:
            continue
        level = trigger.threshold.level(decision.limit) or 0.0
        for winners in (every,) if trigger.shadow else (every, live):
            best = winners.get(trigger.metric)
            if best is None or level > best[0]:
                winners[trigger.metric] = (level, decision)
    for decision in decided:
        trigger = decision.trigger
        if decision.outcome != "shown" or trigger.metric is None:
            continue
        _, winner = (every if trigger.shadow else live)[trigger.metric]
        if winner is not decision:
            decision.outcome, decision.winner = "outranked", winner.trigger.id


def _apply_history(decided: list[Decision], account: _Account, *, now: datetime) -> None:
    """Steps 6 and 7, in display order; shadow triggers end as `shadow`, uncounted."""
    state, caps = account.state, account.rules.caps
    answered: list[Trigger] = []  # the live prompts of this answer so far
    for decision in decided:
        if decision.outcome != "shown":
            continue
        trigger = decision.trigger
        assert trigger.prompt is not None  # signal-only triggers stopped at step 4
        dismissed_at = state.dismissed_at.get(trigger.id)
        if dismissed_at is not None and now < dismissed_at + trigger.cooldown:
            decision.outcome = "cooldown"
            decision.since, decision.until = dismissed_at, dismissed_at + trigger.cooldown
            continue
        if trigger.max_impressions is not None:
            limit = trigger.max_impressions
            times = [
                i.at
                for i in state.impressions
                if i.trigger == trigger.id and i.at > now - limit.per
            ]
            if len(times) >= limit.count:
                decision.outcome, decision.shown = "max_impressions", len(times)
                decision.until = sorted(times)[-limit.count] + limit.per
                continue
        if caps and _cap(decision, account, answered=answered, now=now):
            continue
        if trigger.shadow:
            decision.outcome = "shadow"
        else:
            answered.append(trigger)
    held_back = {d.trigger.id: d.outcome for d in decided if d.outcome in _HELD_BACK}
    for decision in decided:
        if decision.outcome == "outranked" and decision.winner in held_back:
            decision.winner_held_back = held_back[decision.winner]


_HELD_BACK: frozenset[Outcome] = frozenset({"cooldown", "max_impressions", "capped"})


def _cap(
    decision: Decision, account: _Account, *, answered: Sequence[Trigger], now: datetime
) -> bool:
    """Mark the decision `capped` if a cap of the rules has no room for one more prompt of
    its style, counting the impressions within the cap's span and the prompts of this
    answer."""
    assert decision.trigger.prompt is not None
    style = decision.trigger.prompt.style
    state = account.state
    for cap in account.rules.caps:
        if not cap.counts(style):
            continue
        history: Sequence[Impression] = (
            state.impressions if cap.scope == "user" else state.account_impressions
        )
        since = now - cap.limit.per
        shown = sum(1 for i in history if i.at > since and cap.counts(i.style))
        taken_by = tuple(t.id for t in answered if t.prompt and cap.counts(t.prompt.style))
        if shown + len(taken_by) >= cap.limit.count:
            decision.outcome, decision.cap = "capped", cap
            decision.shown, decision.taken_by = shown, taken_by
            return True
    return False
