"""Build small rule sets from YAML text and ask the engine's `evaluate` what a user sees."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.engine.model.evaluation import RenderedPrompt, evaluate
from app.engine.model.rule_set import RuleSet
from app.engine.model.state import AccountState
from app.engine.rule_files.loader import load_rules

NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)

# The core example of SPEC.md, copied verbatim.
SPEC_CORE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "rules" / "spec_core.good.yaml"
).read_text()

# Three plans as in SPEC.md's example, small enough to reason about in a test.
PLANS = """
metrics:
  seats: {type: gauge}
  dashboards: {type: gauge}
  exports: {type: gauge}
  api_calls: {type: counter, window: month}
default_plan: free
plans:
  free:
    limits: {seats: 3, dashboards: 0, api_calls: 100}
    upgrade_to: team
  team:
    limits: {seats: 25, api_calls: 10000}
    upgrade_to: business
  business:
    limits: {seats: 100}
"""


def rules_from(*texts: str) -> RuleSet:
    """Load `texts` as the files of one rule set; fail the test on any problem."""
    result = load_rules({f"rules{index}.yaml": text for index, text in enumerate(texts)})
    assert result.rules is not None, "\n".join(str(p) for p in result.problems)
    return result.rules


def with_triggers(triggers: str) -> RuleSet:
    """PLANS plus a `triggers:` section written as YAML list items."""
    return rules_from(PLANS, "triggers:\n" + triggers)


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


def trigger(
    trigger_id: str,
    *,
    metric: str = "seats",
    threshold: str = "100%",
    title: str = "t",
    extra: str = "",
) -> str:
    """One trigger as a YAML list item, for `with_triggers`."""
    lines = [
        f"  - id: {trigger_id}",
        f"    metric: {metric}",
        f"    threshold: {threshold}",
        f"    prompt: {{title: {title!r}}}",
    ]
    lines += [f"    {line}" for line in extra.splitlines() if line.strip()]
    return "\n".join(lines) + "\n"
