"""Warnings: rules that load but probably do not do what their author meant.

`warnings_for(rules)` is pure and returns every warning of a compiled rule set,
located at file:line:column like a load error. A warning never stops a rule set
from loading or from going live; `nudge rules check --strict` fails on them, for CI.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from app.engine.model.evaluation import RenderedPrompt, render
from app.engine.model.rule_set import Location, Plan, RuleSet, Trigger
from app.engine.model.templating import Template
from app.engine.problems import Problem
from app.engine.vocabulary import PROMPT_TEXT_FIELDS

# The prompt texts of a trigger, as `key_locations` names them ("prompt.cta.label") ->
# the attribute that holds each in a PromptTemplate and in a RenderedPrompt ("cta_label").
TEXTS = {"prompt." + ".".join(path): "_".join(path) for path in PROMPT_TEXT_FIELDS}


def warnings_for(rules: RuleSet) -> list[Problem]:
    """Every warning about `rules`, in file, line and column order."""
    found = [
        *_upgrade_paths(rules),
        *_never_fire(rules),
        *_shadowed(rules),
        *_unlimited_placeholders(rules),
        *_unused_metrics(rules),
    ]
    return sorted(found)


def _warning(where: Location | None, message: str) -> Problem:
    if where is None:  # compiled without positions (rule sets built in code)
        return Problem("(rules)", 1, 1, message, severity="warning")
    return Problem(where.file, where.line, where.column, message, severity="warning")


def applicable_plans(rules: RuleSet, trigger: Trigger) -> list[Plan]:
    """The plans `trigger` is evaluated for, in the order the files define them."""
    return [plan for plan in rules.plans.values() if trigger.applies_to(plan)]


def firing_plans(rules: RuleSet, trigger: Trigger) -> list[Plan]:
    """The plans on which `trigger`'s threshold can be met at some usage.

    A trigger without a threshold may fire on each plan it applies to: whether its
    condition can ever hold is not something lint decides.
    """
    return [
        plan
        for plan in applicable_plans(rules, trigger)
        if trigger.metric is None
        or trigger.threshold is None
        or trigger.threshold.level(plan.limit(trigger.metric)) is not None
    ]


def _upgrade_paths(rules: RuleSet) -> Iterator[Problem]:
    known = ", ".join(sorted(rules.plans))
    for plan in rules.plans.values():
        target = plan.upgrade_to
        if target is not None and target not in rules.plans:
            yield _warning(
                plan.key_locations.get("upgrade_to", plan.location),
                f'plan "{plan.name}": upgrade_to names unknown plan "{target}"; '
                f"known plans: {known}. Its accounts are told to upgrade to "
                f'"{target}", and {{upgrade_limit}} renders "unlimited" for them; '
                "fix the name, or remove upgrade_to if this is the top plan",
            )
    for cycle in _upgrade_cycles(rules):
        first = rules.plans[cycle[0]]
        path = " → ".join([*cycle, cycle[0]])
        yield _warning(
            first.key_locations.get("upgrade_to", first.location),
            f"upgrade_to goes round in a circle: {path}. Every plan in it is offered an "
            f'"upgrade" to another plan of the circle (accounts on "{cycle[-1]}" are asked '
            f'to upgrade to "{cycle[0]}"); remove upgrade_to from the top plan',
        )


def _upgrade_cycles(rules: RuleSet) -> list[list[str]]:
    """Each circle of upgrade_to once, starting at its plan defined first."""
    order = {name: index for index, name in enumerate(rules.plans)}
    cycles: list[list[str]] = []
    done: set[str] = set()
    for start in rules.plans:
        path: list[str] = []
        name: str | None = start
        while name is not None and name in rules.plans and name not in done:
            if name in path:
                cycle = path[path.index(name) :]
                first = min(range(len(cycle)), key=lambda i: order[cycle[i]])
                cycles.append(cycle[first:] + cycle[:first])
                break
            path.append(name)
            name = rules.plans[name].upgrade_to
        done.update(path)
    return cycles


def _never_fire(rules: RuleSet) -> Iterator[Problem]:
    for trigger in rules.triggers:
        plans = applicable_plans(rules, trigger)
        if not plans:
            if trigger.plans is None:
                reason = (
                    "without `plans:` a trigger fires only on plans that have an upgrade_to, "
                    "and no plan has one; list the plans it is for with `plans: [...]`, "
                    "or give a plan an upgrade_to"
                )
            else:
                reason = "its `plans:` list is empty; name the plans it is for"
            yield _warning(
                trigger.where("plans"), f'trigger "{trigger.id}" can never fire: {reason}'
            )
            continue
        # A condition only ever narrows a threshold, so a threshold that cannot be met
        # keeps its trigger from firing with or without `when:`.
        if trigger.metric is None or firing_plans(rules, trigger):
            continue
        limits = ", ".join(f"{plan.name}: {_limit_text(plan, trigger.metric)}" for plan in plans)
        yield _warning(
            trigger.where("threshold"),
            f'trigger "{trigger.id}": threshold {trigger.threshold} can never fire: a '
            f'percentage is a share of the plan\'s limit on "{trigger.metric}", and no plan '
            f"it applies to has a limit above 0 ({limits}); give those plans a limit, or "
            "use an absolute threshold such as `threshold: 1`",
        )


def _limit_text(plan: Plan, metric: str) -> str:
    limit = plan.limit(metric)
    return "no limit" if limit is None else f"{limit:g}"


def _shadowed(rules: RuleSet) -> Iterator[Problem]:
    # rules.triggers is in the evaluator's tie order (priority, then id): of two
    # triggers with the same threshold level, the earlier one is chosen.
    # A winner with a condition may not fire where the loser does, so it shadows nothing;
    # a loser with one is still hidden wherever it fires. Triggers without a metric
    # compete with none, and so do shadow and signal-only triggers; a winner with `for:`
    # is pending for a while, during which it hides nothing.
    for index, loser in enumerate(rules.triggers):
        if not _competes(loser):
            continue
        for winner in rules.triggers[:index]:
            if not _competes(winner) or winner.condition is not None or winner.hold_for:
                continue
            if winner.metric != loser.metric or winner.threshold != loser.threshold:
                continue
            plans = _common(firing_plans(rules, winner), firing_plans(rules, loser))
            placements = _common_placements(winner, loser)
            if not plans or placements == frozenset():
                continue
            yield _warning(
                loser.location, _shadow_message(winner, loser, plans=plans, placements=placements)
            )
            break  # one warning per shadowed trigger: the trigger that wins over it


def _competes(trigger: Trigger) -> bool:
    """Whether the trigger takes part in choosing the one live prompt of its metric."""
    return trigger.metric is not None and trigger.prompt is not None and not trigger.shadow


def _common(first: list[Plan], second: list[Plan]) -> list[str]:
    names = {plan.name for plan in second}
    return [plan.name for plan in first if plan.name in names]


def _common_placements(first: Trigger, second: Trigger) -> frozenset[str] | None:
    """The placements where both may show; None: every placement."""
    if first.placements is None:
        return second.placements
    if second.placements is None:
        return first.placements
    return first.placements & second.placements


def _shadow_message(
    winner: Trigger, loser: Trigger, *, plans: list[str], placements: frozenset[str] | None
) -> str:
    why = (
        "it has a higher priority"
        if winner.priority > loser.priority
        else "the priorities are equal and its id sorts first"
    )
    where = f"on {'plan' if len(plans) == 1 else 'plans'} " + ", ".join(plans)
    if placements is not None:
        where += f" in {'placement' if len(placements) == 1 else 'placements'} "
        where += ", ".join(sorted(placements))
    return (
        f'trigger "{loser.id}" is shadowed by "{winner.id}" ({winner.location}): both fire '
        f'on "{loser.metric}" at {loser.threshold} {where}, where only one prompt per metric '
        f'is shown and "{winner.id}" wins ({why}), so "{loser.id}" is never shown there; '
        "give them different thresholds, plans or placements, or remove one"
    )


def _unlimited_placeholders(rules: RuleSet) -> Iterator[Problem]:
    for trigger in rules.triggers:
        if trigger.metric is None or trigger.prompt is None:
            continue  # no texts, or none that may name the metric's placeholders
        for plan in firing_plans(rules, trigger):
            reasons = _unlimited_reasons(rules, trigger, plan=plan)
            if not reasons:
                continue
            prompt = render(rules, trigger, plan=plan, usage=_sample_usage(trigger, plan))
            for key, attribute in TEXTS.items():
                template = _template(trigger, attribute)
                if template is None:
                    continue
                used = [name for name in template.parts[1::2] if name in reasons]
                if not used:
                    continue
                because = "; ".join(dict.fromkeys(reasons[name] for name in used))
                yield _warning(
                    trigger.where(key),
                    f'trigger "{trigger.id}": {key} renders "unlimited" for accounts on '
                    f'"{plan.name}" ({because}): "{_rendered(prompt, attribute)}"; reword it '
                    "so that it reads well without a number, or keep the trigger off that "
                    "plan with `plans: [...]`",
                )


def _unlimited_reasons(rules: RuleSet, trigger: Trigger, *, plan: Plan) -> dict[str, str]:
    """Placeholder -> why it renders `unlimited` for accounts on `plan`."""
    reasons: dict[str, str] = {}
    metric = trigger.metric
    if metric is None:
        return reasons
    if plan.limit(metric) is None:  # only absolute thresholds fire without a limit
        for name in ("limit", "remaining"):
            reasons[name] = f'{{{name}}}: "{plan.name}" has no limit on "{metric}"'
    if plan.upgrade_to is None:
        reasons["upgrade_limit"] = f'{{upgrade_limit}}: "{plan.name}" has no upgrade_to'
    elif plan.upgrade_to in rules.plans and rules.plans[plan.upgrade_to].limit(metric) is None:
        reasons["upgrade_limit"] = (
            f'{{upgrade_limit}}: its upgrade_to "{plan.upgrade_to}" has no limit on "{metric}"'
        )
    # An upgrade_to that names no plan renders "unlimited" too; _upgrade_paths says so.
    return reasons


def _sample_usage(trigger: Trigger, plan: Plan) -> float:
    """The usage at which the trigger starts firing on `plan`, as a whole count."""
    if trigger.metric is None or trigger.threshold is None:
        return 0.0
    level = trigger.threshold.level(plan.limit(trigger.metric))
    return math.ceil(level) if level is not None else 0.0


def _template(trigger: Trigger, attribute: str) -> Template | None:
    template: Template | None = getattr(trigger.prompt, attribute)
    return template


def _rendered(prompt: RenderedPrompt, attribute: str) -> str:
    text: str | None = getattr(prompt, attribute)
    return text or ""


def _unused_metrics(rules: RuleSet) -> Iterator[Problem]:
    used = {trigger.metric for trigger in rules.triggers if trigger.metric is not None}
    for trigger in rules.triggers:
        if trigger.condition is not None:
            used |= trigger.condition.metrics
    for metric in rules.metrics.values():
        if metric.name not in used:
            yield _warning(
                metric.location,
                f'metric "{metric.name}" is not used by any trigger: its usage is recorded '
                "but never prompts anyone; add a trigger on it, or remove it (and its "
                "limits) if nothing needs it",
            )
