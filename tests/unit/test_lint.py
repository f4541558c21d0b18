"""Warnings of `nudge rules check`: rules that load but probably do not do what was meant.

A table of small rule sets, each with every warning expected as
`rules.yaml:line:column: warning: ...`, in the manner of the loader's fixture tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.engine.problems import Problem
from app.engine.rule_files.loader import load_rules, load_rules_dir
from tests.support.rule_sets import SPEC_CORE

SHIPPED_RULES = Path(__file__).resolve().parent.parent.parent / "rules"

# Two plans, free upgrading to team, one metric; the triggers follow from line 8.
TWO_PLANS = """\
metrics:
  seats: {type: gauge}
default_plan: free
plans:
  free: {limits: {seats: 3}, upgrade_to: team}
  team: {limits: {seats: 25}}
triggers:
"""

# name -> (rules.yaml, every warning as (line, column, a part of the message))
CASES: dict[str, tuple[str, list[tuple[int, int, str]]]] = {
    "same percent threshold, same plans: the lower priority is shadowed": (
        TWO_PLANS
        + """\
  - {id: seats-high, metric: seats, threshold: 80%, priority: 5, prompt: {title: a}}
  - {id: seats-nearly, metric: seats, threshold: 80%, priority: 1, prompt: {title: b}}
""",
        [
            (
                9,
                5,
                'trigger "seats-nearly" is shadowed by "seats-high" (rules.yaml:8): both fire '
                'on "seats" at 80% on plan free, where only one prompt per metric is '
                'shown and "seats-high" wins (it has a higher priority), so "seats-nearly" is '
                "never shown there",
            )
        ],
    ),
    "same absolute threshold and priority: the larger id is shadowed where plans overlap": (
        TWO_PLANS
        + """\
  - {id: b-five, metric: seats, threshold: 5, plans: [team], prompt: {title: b}}
  - {id: a-five, metric: seats, threshold: 5, plans: [free, team], prompt: {title: a}}
""",
        [
            (
                8,
                5,
                'trigger "b-five" is shadowed by "a-five" (rules.yaml:9): both fire on "seats" '
                'at 5 on plan team, where only one prompt per metric is shown and "a-five" '
                "wins (the priorities are equal and its id sorts first)",
            )
        ],
    ),
    "same threshold in overlapping placements: named in the warning": (
        TWO_PLANS
        + """\
  - {id: one, metric: seats, threshold: 100%, placements: [members, billing], prompt: {title: a}}
  - {id: two, metric: seats, threshold: 100%, placements: [billing, home], prompt: {title: b}}
""",
        [(9, 5, 'both fire on "seats" at 100% on plan free in placement billing,')],
    ),
    "same threshold in placements that do not overlap: no warning": (
        TWO_PLANS
        + """\
  - {id: one, metric: seats, threshold: 100%, placements: [members], prompt: {title: a}}
  - {id: two, metric: seats, threshold: 100%, placements: [billing], prompt: {title: b}}
""",
        [],
    ),
    "same threshold on plans that do not overlap: no warning": (
        TWO_PLANS
        + """\
  - {id: one, metric: seats, threshold: 100%, plans: [free], prompt: {title: a}}
  - {id: two, metric: seats, threshold: 100%, plans: [team], prompt: {title: b}}
""",
        [],
    ),
    "80% and 100% on one metric are no shadow": (
        TWO_PLANS
        + """\
  - {id: almost, metric: seats, threshold: 80%, prompt: {title: a}}
  - {id: full, metric: seats, threshold: 100%, prompt: {title: b}}
""",
        [],
    ),
    "a percentage where no plan it applies to has a limit above 0 never fires": (
        """\
metrics:
  seats: {type: gauge}
  sso_attempts: {type: counter, window: month}
default_plan: free
plans:
  free: {limits: {seats: 3, sso_attempts: 0}, upgrade_to: team}
  team: {limits: {seats: 25}}
triggers:
  - {id: seats-full, metric: seats, threshold: 100%, prompt: {title: a}}
  - {id: sso-tried, metric: sso_attempts, threshold: 100%, prompt: {title: b}, plans: [free, team]}
""",
        [
            (
                10,
                43,
                'trigger "sso-tried": threshold 100% can never fire: a percentage is a share of '
                'the plan\'s limit on "sso_attempts", and no plan it applies to has a limit '
                "above 0 (free: 0, team: no limit); give those plans a limit, or use an "
                "absolute threshold such as `threshold: 1`",
            )
        ],
    ),
    "a percentage above 100% fires over the limit: no warning": (
        TWO_PLANS
        + """\
  - {id: seats-over, metric: seats, threshold: 150%, prompt: {title: a}}
""",
        [],
    ),
    "without plans and with no plan that has an upgrade_to a trigger never fires": (
        """\
metrics:
  seats: {type: gauge}
default_plan: free
plans:
  free: {limits: {seats: 3}}
triggers:
  - {id: seats-full, metric: seats, threshold: 100%, prompt: {title: a}}
""",
        [
            (
                7,
                5,
                'trigger "seats-full" can never fire: without `plans:` a trigger fires only on '
                "plans that have an upgrade_to, and no plan has one",
            )
        ],
    ),
    "upgrade_to naming no plan": (
        """\
metrics:
  seats: {type: gauge}
default_plan: free
plans:
  free: {limits: {seats: 3}, upgrade_to: teams}
  team: {limits: {seats: 25}}
triggers:
  - {id: seats-full, metric: seats, threshold: 100%, prompt: {title: a}}
""",
        [
            (
                5,
                30,
                'plan "free": upgrade_to names unknown plan "teams"; known plans: free, team. '
                'Its accounts are told to upgrade to "teams", and {upgrade_limit} renders '
                '"unlimited" for them',
            )
        ],
    ),
    "upgrade_to going round in a circle, named from its first plan": (
        """\
metrics:
  seats: {type: gauge}
default_plan: free
plans:
  free: {limits: {seats: 3}, upgrade_to: team}
  team: {limits: {seats: 25}, upgrade_to: free}
triggers:
  - {id: seats-full, metric: seats, threshold: 100%, prompt: {title: a}}
""",
        [
            (
                5,
                30,
                "upgrade_to goes round in a circle: free → team → free. Every plan in it is "
                'offered an "upgrade" to another plan of the circle (accounts on "team" are '
                'asked to upgrade to "free"); remove upgrade_to from the top plan',
            )
        ],
    ),
    "a plan that upgrades to itself": (
        """\
metrics:
  seats: {type: gauge}
default_plan: free
plans:
  free: {limits: {seats: 3}, upgrade_to: free}
triggers:
  - {id: seats-full, metric: seats, threshold: 100%, prompt: {title: a}}
""",
        [(5, 30, "upgrade_to goes round in a circle: free → free.")],
    ),
    "{limit} and {remaining} in an absolute trigger on a plan without a limit": (
        """\
metrics:
  seats: {type: gauge}
default_plan: free
plans:
  free: {limits: {seats: 3}, upgrade_to: team}
  team: {limits: {}, upgrade_to: business}
  business: {limits: {seats: 100}}
triggers:
  - id: many-seats
    metric: seats
    threshold: 10
    prompt:
      title: "{usage} seats"
      body: "{usage} of {limit} seats, {remaining} left"
""",
        [
            (
                14,
                7,
                'trigger "many-seats": prompt.body renders "unlimited" for accounts on "team" '
                '({limit}: "team" has no limit on "seats"; {remaining}: "team" has no limit on '
                '"seats"): "10 of unlimited seats, unlimited left"; reword it so that it reads '
                "well without a number, or keep the trigger off that plan with `plans: [...]`",
            )
        ],
    ),
    "{upgrade_limit} where the upgrade plan has no limit, and on a plan without upgrade_to": (
        """\
metrics:
  seats: {type: gauge}
default_plan: free
plans:
  free: {limits: {seats: 3}, upgrade_to: team}
  team: {limits: {seats: 25}, upgrade_to: enterprise}
  business: {limits: {seats: 100}}
  enterprise: {limits: {}}
triggers:
  - id: seats-full
    metric: seats
    threshold: 100%
    plans: [free, business]
    prompt: {title: "{upgrade_plan} has {upgrade_limit} seats"}
  - id: seats-team
    metric: seats
    threshold: 90%
    plans: [team]
    prompt:
      title: "{usage} of {limit}"
      cta: {label: "Get {upgrade_limit} seats", url: "/up?plan={upgrade_plan}"}
""",
        [
            (
                14,
                14,
                'trigger "seats-full": prompt.title renders "unlimited" for accounts on '
                '"business" ({upgrade_limit}: "business" has no upgrade_to): " has unlimited '
                'seats"',
            ),
            (
                21,
                13,
                'trigger "seats-team": prompt.cta.label renders "unlimited" for accounts on '
                '"team" ({upgrade_limit}: its upgrade_to "enterprise" has no limit on "seats")',
            ),
        ],
    ),
    "a metric no trigger uses": (
        """\
metrics:
  seats: {type: gauge}
  exports: {type: counter, window: day}
default_plan: free
plans:
  free: {limits: {seats: 3, exports: 10}, upgrade_to: team}
  team: {limits: {seats: 25}}
triggers:
  - {id: seats-full, metric: seats, threshold: 100%, prompt: {title: a}}
""",
        [
            (
                3,
                3,
                'metric "exports" is not used by any trigger: its usage is recorded but never '
                "prompts anyone; add a trigger on it, or remove it (and its limits) if nothing "
                "needs it",
            )
        ],
    ),
}


def _warnings(text: str) -> tuple[Problem, ...]:
    result = load_rules({"rules.yaml": text})
    assert result.rules is not None, "\n".join(map(str, result.problems))
    return result.warnings


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_warning_is_located_and_says_what_to_do(name: str) -> None:
    text, expected = CASES[name]
    found = _warnings(text)
    assert len(found) == len(expected), "\n".join(map(str, found))
    for warning, (line, column, message) in zip(found, expected, strict=True):
        assert str(warning).startswith(f"rules.yaml:{line}:{column}: warning: "), str(warning)
        assert message in warning.message, str(warning)
        assert warning.severity == "warning"


def test_a_rule_set_with_warnings_still_loads_without_errors() -> None:
    text, _ = CASES["upgrade_to going round in a circle, named from its first plan"]
    result = load_rules({"rules.yaml": text})
    assert result.rules is not None
    assert result.problems == ()
    assert len(result.warnings) == 1


def test_an_upgrade_to_naming_no_plan_keeps_the_name_and_renders_unlimited() -> None:
    from tests.support.evaluation import prompts

    text = CASES["upgrade_to naming no plan"][0].replace(
        "{title: a}", '{title: "{upgrade_plan}: {upgrade_limit}"}'
    )
    rules = load_rules({"rules.yaml": text}).rules
    assert rules is not None
    [prompt] = prompts(rules, usage={"seats": 3})
    assert (prompt.upgrade_plan, prompt.title) == ("teams", "teams: unlimited")


def test_errors_print_as_before_and_warnings_say_warning() -> None:
    assert str(Problem("a.yaml", 3, 5, "boom")) == "a.yaml:3:5: boom"
    assert str(Problem("a.yaml", 3, 5, "hm", severity="warning")) == "a.yaml:3:5: warning: hm"


def test_the_shipped_rules_load_without_a_warning() -> None:
    # A first start on the example rules prints no WARNING, and `nudge rules check` none.
    result = load_rules_dir(SHIPPED_RULES)
    assert result.problems == ()
    assert [str(warning) for warning in result.warnings] == []


def test_the_spec_core_example_warns_only_of_the_metrics_it_leaves_to_other_files() -> None:
    # SPEC.md's core example defines four metrics for triggers that live in other files;
    # its prompt texts read well on every plan ("Upgrade to {upgrade_plan} to add more seats.").
    found = [(w.line, w.column, w.message.split(":")[0]) for w in _warnings(SPEC_CORE)]
    assert found == [
        (3, 3, 'metric "dashboards" is not used by any trigger'),
        (4, 3, 'metric "api_calls" is not used by any trigger'),
        (5, 3, 'metric "history_days" is not used by any trigger'),
    ]
