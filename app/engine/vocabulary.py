"""The words of Nudge's domain, each spelled once: a `Literal` for the types that take
one, and (where code lists them) a tuple of the same words, derived from it.

The rule-file schema, the compiled model, the API's schemas, the services and the
store take their enums from here. The SDKs cannot import `app`; tests hold their
types to these (tests/unit/test_vocabulary.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, get_args

# What a metric measures: a level the app sets or moves, or a count within a window.
MetricType = Literal["gauge", "counter"]

# The calendar windows (UTC) a counter counts in.
CounterWindow = Literal["hour", "day", "week", "month"]
COUNTER_WINDOWS: tuple[CounterWindow, ...] = get_args(CounterWindow)

# How the frontend shows a prompt.
PromptStyle = Literal["banner", "modal", "inline", "toast"]
PROMPT_STYLES: tuple[PromptStyle, ...] = get_args(PromptStyle)

# The prompt texts, as paths under a trigger's `prompt`; each takes placeholders.
PROMPT_TEXT_FIELDS: tuple[tuple[str, ...], ...] = (
    ("title",),
    ("body",),
    ("cta", "label"),
    ("cta", "url"),
)

# What a rule-set cap counts: the prompts of one style, or of any style.
ANY_STYLE = "any"
CapKey = Literal[PromptStyle, "any"]

# Whose impressions a cap counts: each user's, or every user's of the account.
CapScope = Literal["user", "account"]

# A trigger's mode: shown and signalled, or only evaluated and counted in metrics.
TriggerMode = Literal["live", "shadow"]

# What a firing trigger may record about its account: pql, a product-qualified lead.
SignalType = Literal["pql"]
SIGNAL_TYPES: tuple[SignalType, ...] = get_args(SignalType)

# What a frontend reports of a prompt (POST /v1/prompts/{id}/events).
PromptEventType = Literal["shown", "clicked", "dismissed", "converted"]
PROMPT_EVENT_TYPES: tuple[PromptEventType, ...] = get_args(PromptEventType)

# What a usage event does to its metric: add to it, or set it.
UsageOp = Literal["incr", "set"]
USAGE_OPS: tuple[UsageOp, ...] = get_args(UsageOp)

# Where the evaluation of one trigger stopped, for one account's user (app/engine
# decisions.py walks the steps; explain shows the outcome).
Outcome = Literal[
    "shown",  # returned to the user
    "shadow",  # mode: shadow, and would have been returned
    "signal",  # a signal-only trigger that fires
    "unknown_plan",  # the account's plan is not in the rules
    "not_for_plan",  # the trigger lists plans, and not this one
    "no_upgrade",  # the plan has no upgrade_to and the trigger lists no plans
    "no_limit",  # a percentage threshold on a plan without a limit (or a limit of 0)
    "below_threshold",
    "condition_false",
    "pending",  # holds, but not yet for as long as `for:` asks
    "placement",  # not shown in the placement asked for
    "outranked",  # another trigger wins this metric
    "cooldown",  # this user dismissed it
    "max_impressions",  # shown to this user as often as it may be
    "capped",  # a rule-set cap is reached
]


def spelled_out(words: Sequence[str]) -> str:
    """The words as a sentence lists them: "hour, day, week or month"."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"
