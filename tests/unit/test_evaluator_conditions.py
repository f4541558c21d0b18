"""Triggers with `when:` conditions: when they fire, what their prompts say, what lint says."""

from __future__ import annotations

from datetime import timedelta

from app.engine.rule_files.lint import warnings_for
from app.engine.rule_files.loader import load_rules
from tests.support.evaluation import NOW, prompts, shown
from tests.support.rule_sets import PLANS, with_triggers


def _when(trigger_id: str, condition: str, *, extra: str = "", title: str = "t") -> str:
    lines = [
        f"  - id: {trigger_id}",
        f"    when: {condition!r}",
        f"    prompt: {{title: {title!r}}}",
    ]
    lines += [f"    {line}" for line in extra.splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


def test_the_issues_example_fires_only_when_both_parts_hold() -> None:
    rules = with_triggers(_when("power-user", "dashboards >= 2 and seats >= 3"))

    assert shown(rules, usage={"dashboards": 2, "seats": 3}) == ["power-user"]
    assert shown(rules, usage={"dashboards": 2, "seats": 2}) == []
    assert shown(rules, usage={"dashboards": 1, "seats": 3}) == []
    assert shown(rules, usage={}) == []


def test_a_condition_reads_the_accounts_attributes() -> None:
    rules = with_triggers(_when("retail", 'account.industry == "retail"'))

    assert shown(rules, usage={}, attributes={"industry": "retail"}) == ["retail"]
    assert shown(rules, usage={}, attributes={"industry": "banking"}) == []


def test_a_missing_attribute_makes_the_condition_false_not_an_error() -> None:
    rules = with_triggers(
        _when("retail", 'account.industry == "retail"')
        + _when("not-retail", 'not (account.industry == "retail")')
    )

    assert shown(rules, usage={}, attributes={}) == []


def test_a_condition_reads_the_plan() -> None:
    rules = with_triggers(_when("free-only", 'plan in ["free"]', extra="plans: [free, team]"))

    assert shown(rules, usage={}, plan="free") == ["free-only"]
    assert shown(rules, usage={}, plan="team") == []


def test_a_condition_reads_the_plans_limits_and_sees_unlimited_as_null() -> None:
    rules = with_triggers(
        _when("near-limit", "seats >= limit.seats - 1", extra="plans: [free, business]")
        + _when("no-dash-limit", "limit.dashboards == null", extra="plans: [free, business]")
    )

    assert shown(rules, usage={"seats": 2}, plan="free") == ["near-limit"]
    assert shown(rules, usage={"seats": 99}, plan="business") == ["near-limit", "no-dash-limit"]
    # free's dashboards limit is 0, not unlimited
    assert shown(rules, usage={"seats": 1}, plan="free") == []


def test_with_a_threshold_both_the_threshold_and_the_condition_must_hold() -> None:
    rules = with_triggers(
        "  - id: seats-full-retail\n    metric: seats\n    threshold: 100%\n"
        "    when: 'account.industry == \"retail\"'\n    prompt: {title: t}\n"
    )

    assert shown(rules, usage={"seats": 3}, attributes={"industry": "retail"}) == [
        "seats-full-retail"
    ]
    assert shown(rules, usage={"seats": 2}, attributes={"industry": "retail"}) == []
    assert shown(rules, usage={"seats": 3}, attributes={"industry": "banking"}) == []
    assert shown(rules, usage={"seats": 3}) == []


def test_a_division_by_zero_at_run_time_does_not_fire_and_does_not_raise() -> None:
    # free's dashboards limit is 0
    rules = with_triggers(_when("ratio", "dashboards / limit.dashboards >= 0.5"))

    assert shown(rules, usage={"dashboards": 5}, plan="free") == []


def test_a_division_by_an_unlimited_limit_does_not_fire() -> None:
    rules = with_triggers(_when("ratio", "seats / limit.exports > 0.5"))

    assert shown(rules, usage={"seats": 5}, plan="free") == []


def test_an_attribute_of_the_wrong_type_does_not_fire() -> None:
    rules = with_triggers(_when("big", "account.employees > 100"))

    assert shown(rules, usage={}, attributes={"employees": "many"}) == []
    assert shown(rules, usage={}, attributes={"employees": [1, 2]}) == []
    assert shown(rules, usage={}, attributes={"employees": 500}) == ["big"]


def test_a_condition_that_fails_leaves_the_metric_to_a_lower_threshold() -> None:
    rules = with_triggers(
        "  - id: seats-full-retail\n    metric: seats\n    threshold: 100%\n"
        "    when: 'account.industry == \"retail\"'\n    prompt: {title: t}\n"
        "  - id: seats-almost\n    metric: seats\n    threshold: 80%\n    prompt: {title: t}\n"
    )

    assert shown(rules, usage={"seats": 3}, attributes={"industry": "retail"}) == [
        "seats-full-retail"
    ]
    assert shown(rules, usage={"seats": 3}) == ["seats-almost"]


def test_when_only_triggers_never_compete_with_each_other_or_with_a_metric() -> None:
    rules = with_triggers(
        _when("a", "seats >= 3", extra="priority: 1")
        + _when("b", "seats >= 1", extra="priority: 2")
        + "  - id: seats-full\n    metric: seats\n    threshold: 100%\n    prompt: {title: t}\n"
    )

    assert shown(rules, usage={"seats": 3}) == ["b", "a", "seats-full"]


def test_a_dismissed_when_only_trigger_stays_hidden_for_its_cooldown() -> None:
    rules = with_triggers(_when("a", "seats >= 1", extra="cooldown: 1d"))
    dismissed = {"a": NOW - timedelta(hours=1)}

    assert shown(rules, usage={"seats": 1}, dismissed=dismissed) == []
    assert shown(rules, usage={"seats": 1}, dismissed=dismissed, now=NOW + timedelta(days=1)) == [
        "a"
    ]


def test_a_when_only_prompt_has_no_metric_usage_or_limit_and_names_its_plans() -> None:
    rules = with_triggers(
        "  - id: power-user\n    when: dashboards >= 2 and seats >= 3\n"
        "    prompt:\n      style: toast\n      title: 'You use {plan} like a pro'\n"
        "      body: 'Try {upgrade_plan}.'\n"
        "      cta: {label: Upgrade, url: '/billing/upgrade?plan={upgrade_plan}'}\n"
    )

    [prompt] = prompts(rules, usage={"dashboards": 2, "seats": 3})

    assert (prompt.metric, prompt.usage, prompt.limit) == (None, None, None)
    assert (prompt.plan, prompt.upgrade_plan, prompt.style) == ("free", "team", "toast")
    assert prompt.title == "You use free like a pro"
    assert prompt.body == "Try team."
    assert prompt.cta_url == "/billing/upgrade?plan=team"


def test_a_prompt_with_metric_and_condition_renders_the_metric() -> None:
    rules = with_triggers(
        "  - id: t\n    metric: seats\n    threshold: 1\n    when: plan == 'free'\n"
        "    prompt: {title: '{usage} of {limit} {metric}'}\n"
    )

    [prompt] = prompts(rules, usage={"seats": 2})

    assert (prompt.metric, prompt.usage, prompt.limit, prompt.title) == (
        "seats",
        2,
        3,
        "2 of 3 seats",
    )


# --- lint ----------------------------------------------------------------------------------


def _warnings(triggers: str) -> list[str]:
    result = load_rules({"rules.yaml": PLANS + "triggers:\n" + triggers})
    assert result.rules is not None, [str(p) for p in result.problems]
    return [problem.message for problem in warnings_for(result.rules)]


def _all_metrics_used() -> str:
    return _when("uses-all", "seats + dashboards + exports + api_calls > 0")


def test_metrics_read_by_a_condition_count_as_used() -> None:
    assert _warnings(_all_metrics_used()) == []
    assert _warnings(_when("limits-only", "limit.seats + limit.dashboards > 0 and "
                           "limit.exports == null and limit.api_calls > 0")) == []  # fmt: skip


def test_a_trigger_with_a_condition_shadows_nothing() -> None:
    triggers = (
        _all_metrics_used() + "  - id: a\n    metric: seats\n    threshold: 80%\n    priority: 2\n"
        "    when: account.vip == true\n    prompt: {title: t}\n"
        "  - id: b\n    metric: seats\n    threshold: 80%\n    prompt: {title: t}\n"
    )
    assert _warnings(triggers) == []


def test_a_trigger_with_a_condition_is_still_shadowed_by_one_without() -> None:
    triggers = (
        _all_metrics_used() + "  - id: a\n    metric: seats\n    threshold: 80%\n    priority: 2\n"
        "    prompt: {title: t}\n"
        "  - id: b\n    metric: seats\n    threshold: 80%\n"
        "    when: account.vip == true\n    prompt: {title: t}\n"
    )
    [warning] = _warnings(triggers)
    assert warning.startswith('trigger "b" is shadowed by "a"')


def test_when_only_triggers_are_never_shadowed_or_unfireable() -> None:
    triggers = _all_metrics_used() + _when("b", "seats + dashboards + exports + api_calls > 0")
    assert _warnings(triggers) == []


def test_a_percentage_that_no_plan_limits_never_fires_with_a_condition_either() -> None:
    triggers = (
        _all_metrics_used()
        + "  - id: a\n    metric: exports\n    threshold: 80%\n    when: seats > 1\n"
        "    prompt: {title: t}\n"
    )
    [warning] = _warnings(triggers)
    assert warning.startswith('trigger "a": threshold 80% can never fire')
