"""The prompt path's read plan: one MGET over named sections, each section's values handed
back by name, so a key added to one section never shifts what another decodes."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import permutations

import pytest

from app.engine import RuleSet
from app.store import keys
from app.store.account_state import StateRead
from app.store.read_plan import ReadPlan, by_key
from tests.support.rule_sets import STORE_PLANS, rules_from

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SECTIONS = {
    "mirror": {"account": "k:account"},
    "usage": {"seats": "k:g:seats", "api_calls": "k:c:api_calls"},
    "dismissals": {"seats-full": "k:d:seats-full", "api-high": "k:d:api-high"},
}


def mget(store: dict[str, str], plan_keys: list[str]) -> list[str | None]:
    """What Redis answers an MGET of `plan_keys`: each key's value in order."""
    return [store.get(key) for key in plan_keys]


@pytest.mark.parametrize("order", list(permutations(SECTIONS)))
def test_each_section_gets_its_own_values_whatever_the_order_of_sections(
    order: tuple[str, ...],
) -> None:
    store = {key: f"value of {key}" for section in SECTIONS.values() for key in section.values()}
    plan = ReadPlan({name: SECTIONS[name] for name in order})

    answer = plan.answer(by_key(plan.keys, mget(store, plan.keys)))

    assert answer == {
        name: {item: f"value of {key}" for item, key in section.items()}
        for name, section in SECTIONS.items()
    }


def test_a_key_added_to_one_section_leaves_the_others_as_they_were() -> None:
    store = {"k:account": "plan", "k:g:seats": "3", "k:d:seats-full": "1000", "k:new": "new"}
    before = ReadPlan(SECTIONS)
    grown = ReadPlan({**SECTIONS, "usage": {"extra": "k:new", **SECTIONS["usage"]}})

    old = before.answer(by_key(before.keys, mget(store, before.keys)))
    new = grown.answer(by_key(grown.keys, mget(store, grown.keys)))

    assert grown.keys == [*before.keys[:1], "k:new", *before.keys[1:]]  # all after it move
    assert new["usage"] == {"extra": "new", **old["usage"]}
    assert new["mirror"] == old["mirror"] == {"account": "plan"}
    assert new["dismissals"] == old["dismissals"] == {"seats-full": "1000", "api-high": None}


def test_the_read_is_one_list_of_keys_for_one_mget() -> None:
    plan = ReadPlan(SECTIONS)

    assert plan.keys == [key for section in SECTIONS.values() for key in section.values()]


# Triggers over STORE_PLANS.
RULES = """\
triggers:
  - id: seats-full
    metric: seats
    threshold: 100%
    max_impressions: {count: 1, per: 7d}
    prompt: {title: "Your team is full"}
  - id: api-calls-high
    metric: api_calls
    threshold: 80%
    prompt: {title: "Busy month"}
"""
# The same rules with a `for:` on the first trigger: the read grows a pending mark.
HELD = RULES.replace("    threshold: 100%\n", "    threshold: 100%\n    for: 1h\n", 1)


def rules_of(text: str) -> RuleSet:
    return rules_from(STORE_PLANS, text)


def test_an_accounts_state_decodes_the_same_when_the_read_grows_a_section_key() -> None:
    dismissed = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    shown = f'[["seats-full","modal",{keys.ms(dismissed)},"d1"]]'
    store = {
        keys.account_key("acme"): '{"plan":"free","attributes":{"tier":2}}',
        keys.gauge_key("acme", "seats"): "3.0",
        keys.counter_key("acme", "api_calls", window_id="m202611"): "90",
        keys.dismissal_key("acme", "ana", trigger_id="api-calls-high"): str(keys.ms(dismissed)),
        keys.impressions_key("acme", "ana"): shown,
    }
    states = []
    for rules in (rules_of(RULES), rules_of(HELD)):
        read = StateRead("acme", rules, now=NOW, user_id="ana", for_user=True)
        states.append(read.decode(by_key(read.keys, mget(store, read.keys))))
    plain, held = states

    assert plain == held
    assert (held.plan, held.attributes) == ("free", {"tier": 2})
    assert held.usage == {"seats": 3.0, "api_calls": 90.0}
    assert held.dismissed_at == {"api-calls-high": dismissed}
    assert [(i.trigger, i.at) for i in held.impressions] == [("seats-full", dismissed)]
    assert held.pending_since == {}
