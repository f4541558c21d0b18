"""Decisions in words: why a trigger shows or not, as a product manager reads it.

decisions.py records where each trigger stopped, as an outcome code and the facts
behind it; the words for people are put together here, and only when asked for (by
explain, rule tests and the CLI), never on the prompt path.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from app.engine.durations import format_duration
from app.engine.model.templating import format_number

if TYPE_CHECKING:
    from app.engine.model.decisions import Decision


def in_words(decision: Decision) -> str:
    """The outcome in words a product manager reads."""
    text = _outcome(decision)
    if decision.trigger.shadow and decision.outcome != "shadow":
        text += " (shadow mode)"
    return text


def _outcome(decision: Decision) -> str:  # noqa: C901 a case per outcome, each its words
    trigger = decision.trigger
    match decision.outcome:
        case "shown":
            return f"shown: {_level(decision)}"
        case "shadow":
            return f"shadow mode: would be shown ({_level(decision)}), counted in metrics only"
        case "signal":
            return f"fires: records a {trigger.signal} signal ({_level(decision)})"
        case "unknown_plan":
            return (
                f'the account\'s plan "{decision.plan}" is not in the rules; it gets no '
                "prompts until it is PUT with a plan the rules have"
            )
        case "not_for_plan":
            listed = ", ".join(sorted(trigger.plans or ()))
            return f"not for plan {decision.plan}: the trigger is only for {listed}"
        case "no_upgrade":
            return (
                f"plan {decision.plan} has no upgrade_to, and the trigger lists no plans "
                "(add `plans: [...]` to fire on it anyway)"
            )
        case "no_limit":
            if decision.limit is None:
                return (
                    f"plan {decision.plan} has no limit on {trigger.metric}, so a percentage "
                    "threshold cannot fire"
                )
            return (
                f"plan {decision.plan}'s limit on {trigger.metric} is 0, so a percentage "
                "threshold cannot fire (use an absolute threshold such as 1)"
            )
        case "below_threshold":
            return f"below threshold: {_level(decision)}"
        case "condition_false":
            text = f"condition is false: {trigger.condition.source if trigger.condition else ''}"
            return f"{text} ({decision.condition_note})" if decision.condition_note else text
        case "pending":
            hold = format_duration(trigger.hold_for or timedelta())
            if decision.since is None:
                return (
                    f"pending: holds now, and fires once it has held for {hold}; the hold "
                    "is timed from the account's next usage report or update"
                )
            return (
                f"pending since {_time(decision.since)}: fires at {_time(decision.until)} if it "
                f"still holds (for: {hold})"
            )
        case "placement":
            where = ", ".join(sorted(trigger.placements or ()))
            return f"placement mismatch: shows in {where}, not in {decision.placement}"
        case "outranked":
            text = (
                f"shadowed by {decision.winner}, which also fires on {trigger.metric} "
                "(one prompt per metric: highest threshold, then priority, then id)"
            )
            if decision.winner_held_back is not None:
                text += (
                    f"; {decision.winner} is held back for this user ({decision.winner_held_back}),"
                    f" so nothing about {trigger.metric} shows"
                )
            return text
        case "cooldown":
            return (
                f"cooldown until {_time(decision.until)}: dismissed at {_time(decision.since)} "
                f"(cooldown {format_duration(trigger.cooldown)})"
            )
        case "max_impressions":
            limit = trigger.max_impressions
            assert limit is not None
            return (
                f"max impressions: shown {decision.shown} times in the last "
                f"{format_duration(limit.per)} (at most {limit.count}); shows again "
                f"after {_time(decision.until)}"
            )
        case "capped":
            text = f"capped by {decision.cap}: {decision.shown} shown in the last "
            text += format_duration(decision.cap.limit.per) if decision.cap else "?"
            if decision.taken_by:
                text += f", and this answer already has {', '.join(decision.taken_by)}"
            return text


def _level(decision: Decision) -> str:
    """How usage stands against the threshold: "2 of 3 seats = 67% < 80%"."""
    trigger = decision.trigger
    parts = []
    if trigger.metric is not None and trigger.threshold is not None:
        usage = format_number(decision.usage or 0.0)
        met = decision.outcome != "below_threshold"
        sign = ">=" if met else "<"
        if trigger.threshold.percent and decision.limit:
            share = _share(
                decision.usage or 0.0, decision.limit, threshold=trigger.threshold.value, met=met
            )
            parts.append(
                f"{usage} of {format_number(decision.limit)} {trigger.metric} = "
                f"{share}% {sign} {trigger.threshold}"
            )
        else:
            parts.append(f"{trigger.metric} at {usage} {sign} {trigger.threshold}")
    if trigger.condition is not None and decision.outcome != "below_threshold":
        parts.append(f"condition holds: {trigger.condition.source}")
    if trigger.hold_for is not None and decision.since is not None:
        parts.append(f"held since {_time(decision.since)}")
    return "; ".join(parts) or "fires for every account on the plan"


def _share(usage: float, limit: float, *, threshold: float, met: bool) -> str:
    """Usage as a percent of the limit, whole where that keeps the comparison true
    (2 of 3 = 67%), else cut to two decimals (7999 of 10000 = 79.99%, not 80%)."""
    share = usage * 100 / limit
    whole = round(share)
    if (whole >= threshold) == met:
        return str(whole)
    return format_number(math.floor(usage * 10000 / limit) / 100)


def _time(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M UTC") if at is not None else "?"
