"""The rule sets tests share, as files under tests/support/rules/, and the ways a test
builds a rule set of its own on them:

    loader/             the loader's table: *.good.yaml load; *.bad.yaml and *.warn.yaml
                        give the problems tests/unit/test_loader_fixtures.py lists
    engine_plans.yaml   three plans on four metrics, under the engine tests' triggers
    app_plans.yaml      three plans on three metrics, under the app tests' triggers
    store_plans.yaml    two plans on two metrics, under the store tests' triggers
    explain_core.yaml   the core example's seat and API-call triggers that explain reads

A test keeps its rules inline where it is about their exact text: a typo, or the line
and column a problem is reported at.
"""

from __future__ import annotations

from pathlib import Path

from app.engine import RuleSet, load_rules

RULE_SETS = Path(__file__).resolve().parent / "rules"


def rule_set(name: str) -> str:
    """The text of tests/support/rules/NAME."""
    return (RULE_SETS / name).read_text(encoding="utf-8")


SPEC_CORE = rule_set("loader/spec_core.good.yaml")  # the core example of SPEC.md, verbatim
PLANS = rule_set("engine_plans.yaml")
APP_PLANS = rule_set("app_plans.yaml")
STORE_PLANS = rule_set("store_plans.yaml")


def rules_from(*texts: str) -> RuleSet:
    """Load `texts` as the files of one rule set; fail the test on any problem."""
    result = load_rules({f"rules{index}.yaml": text for index, text in enumerate(texts)})
    assert result.rules is not None, "\n".join(str(p) for p in result.problems)
    return result.rules


def with_triggers(triggers: str) -> RuleSet:
    """PLANS plus a `triggers:` section written as YAML list items."""
    return rules_from(PLANS, "triggers:\n" + triggers)


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


def write_rules(rules_dir: Path, triggers: str, *, caps: str = "") -> None:
    """Make `rules_dir` (a copy of the example rules) hold APP_PLANS, these triggers
    (YAML list items) and these caps, and nothing else."""
    for old in rules_dir.glob("*.yaml"):
        old.unlink()
    (rules_dir / "plans.yaml").write_text(APP_PLANS)
    (rules_dir / "triggers.yaml").write_text(caps + "triggers:\n" + triggers)
