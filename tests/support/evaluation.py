"""Ask the engine's `evaluate` what a user sees, at a fixed time, in a unit test."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from app.engine import AccountState, RenderedPrompt, RuleSet, evaluate

NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)


def prompts(
    rules: RuleSet,
    *,
    usage: Mapping[str, float],
    plan: str | None = None,
    placement: str | None = None,
    dismissed: Mapping[str, datetime] | None = None,
    now: datetime = NOW,
    attributes: Mapping[str, Any] | None = None,
) -> list[RenderedPrompt]:
    state = AccountState(
        plan=plan, usage=usage, dismissed_at=dismissed or {}, attributes=attributes or {}
    )
    return evaluate(rules, state, placement=placement, now=now).prompts


def shown(
    rules: RuleSet,
    *,
    usage: Mapping[str, float],
    plan: str | None = None,
    placement: str | None = None,
    dismissed: Mapping[str, datetime] | None = None,
    now: datetime = NOW,
    attributes: Mapping[str, Any] | None = None,
) -> list[str]:
    """The ids of the triggers whose prompts are shown, in display order."""
    found = prompts(
        rules,
        usage=usage,
        plan=plan,
        placement=placement,
        dismissed=dismissed,
        now=now,
        attributes=attributes,
    )
    return [prompt.trigger for prompt in found]
