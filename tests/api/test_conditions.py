"""GET /v1/prompts with a `when:` trigger: conditions read usage, plan and the attributes
PUT on the account, in the same single read as the counters."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import NudgeFactory

POWER_USER = """\
triggers:
  - id: retail-power-user
    when: 'dashboards >= 2 and seats >= 2 and account.industry == "retail"'
    priority: 5
    prompt:
      style: toast
      title: "Retail teams on {plan} love {upgrade_plan}"
      cta: {label: "See {upgrade_plan}", url: "/billing/upgrade?plan={upgrade_plan}"}
"""


async def _put(client: httpx.AsyncClient, account_id: str, body: dict[str, Any]) -> None:
    answer = await client.put(f"/v1/accounts/{account_id}", json=body)
    assert answer.status_code == 200, answer.text


async def _set(client: httpx.AsyncClient, account_id: str, **levels: float) -> None:
    events = [
        {"id": uuid.uuid4().hex, "account_id": account_id, "metric": m, "value": v, "op": "set"}
        for m, v in levels.items()
    ]
    answer = await client.post("/v1/usage", json={"events": events})
    assert answer.status_code == 202, answer.text


async def _prompts(client: httpx.AsyncClient, account_id: str) -> list[dict[str, Any]]:
    answer = await client.get("/v1/prompts", params={"account_id": account_id})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["prompts"]
    return found


async def test_a_when_only_prompt_comes_from_the_accounts_attributes_and_usage(
    nudge_app: NudgeFactory, rules_dir: Path
) -> None:
    (rules_dir / "power.yaml").write_text(POWER_USER)
    async with nudge_app() as client:
        await _put(client, "shop", {"plan": "free", "attributes": {"industry": "retail"}})
        await _put(client, "bank", {"plan": "free", "attributes": {"industry": "banking"}})
        for account in ("shop", "bank"):
            await _set(client, account, dashboards=2, seats=2)

        [prompt] = await _prompts(client, "shop")
        bank_prompts = await _prompts(client, "bank")

    assert {key: value for key, value in prompt.items() if key != "id"} == {
        "trigger": "retail-power-user",
        "metric": None,
        "usage": None,
        "limit": None,
        "plan": "free",
        "upgrade_plan": "team",
        "style": "toast",
        "title": "Retail teams on free love team",
        "body": None,
        "cta": {"label": "See team", "url": "/billing/upgrade?plan=team"},
    }
    assert bank_prompts == []


async def test_an_account_without_the_attribute_gets_no_prompt_and_no_error(
    nudge_app: NudgeFactory, rules_dir: Path
) -> None:
    (rules_dir / "power.yaml").write_text(POWER_USER)
    async with nudge_app() as client:
        await _set(client, "anon", dashboards=2, seats=2)  # never PUT: no attributes

        assert await _prompts(client, "anon") == []


async def test_the_rules_api_shows_the_condition(nudge_app: NudgeFactory, rules_dir: Path) -> None:
    (rules_dir / "power.yaml").write_text(POWER_USER)
    async with nudge_app() as client:
        answer = await client.get("/v1/rules")

    assert answer.status_code == 200, answer.text
    [trigger] = [t for t in answer.json()["triggers"] if t["id"] == "retail-power-user"]
    assert (trigger["metric"], trigger["threshold"]) == (None, None)
    assert trigger["when"].startswith("dashboards >= 2")


async def test_a_reload_with_a_bad_condition_is_422_with_the_caret_in_its_details(
    nudge_app: NudgeFactory, rules_dir: Path
) -> None:
    async with nudge_app() as client:
        (rules_dir / "power.yaml").write_text(POWER_USER.replace("seats >= 2", "seats >== 2"))
        answer = await client.post("/v1/rules/reload")

    assert answer.status_code == 422, answer.text
    [detail] = answer.json()["error"]["details"]
    assert detail["file"].endswith("power.yaml")
    assert (detail["line"], detail["column"]) == (3, 40)  # the second "="
    assert detail["message"].startswith('trigger "retail-power-user": "when": ')
    assert detail["excerpt"] == (
        'dashboards >= 2 and seats >== 2 and account.industry == "retail"\n'
        "                            ^"
    )
