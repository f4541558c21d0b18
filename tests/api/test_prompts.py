"""GET /v1/prompts on the example rules (rules/*.yaml): thresholds, placements, order, ids."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.support.clock import FakeClock


async def put_plan(client: httpx.AsyncClient, account_id: str, plan: str) -> None:
    answer = await client.put(f"/v1/accounts/{account_id}", json={"plan": plan})
    assert answer.status_code == 200, answer.text


async def use(client: httpx.AsyncClient, account_id: str, **levels: float) -> None:
    """Set gauges to a level; counters (api_calls) are incremented by the value."""
    events = [
        {
            "id": f"{metric}-{uuid.uuid4().hex}",
            "account_id": account_id,
            "metric": metric,
            "value": value,
            "op": "incr" if metric == "api_calls" else "set",
        }
        for metric, value in levels.items()
    ]
    answer = await client.post("/v1/usage", json={"events": events})
    assert answer.status_code == 202, answer.text


async def prompts(
    client: httpx.AsyncClient, account_id: str, **params: str
) -> list[dict[str, Any]]:
    answer = await client.get("/v1/prompts", params={"account_id": account_id, **params})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["degraded"] is False
    result: list[dict[str, Any]] = body["prompts"]
    return result


async def triggers(client: httpx.AsyncClient, account_id: str, **params: str) -> list[str]:
    return [p["trigger"] for p in await prompts(client, account_id, **params)]


async def test_two_of_three_seats_shows_no_prompt(client: httpx.AsyncClient) -> None:
    await put_plan(client, "acme", "free")
    await use(client, "acme", seats=2)

    assert await prompts(client, "acme") == []


async def test_third_seat_shows_only_the_full_team_modal_as_the_spec_renders_it(
    client: httpx.AsyncClient,
) -> None:
    await put_plan(client, "acme", "free")
    await use(client, "acme", seats=3)

    [full] = await prompts(client, "acme", user_id="ana")

    assert {k: v for k, v in full.items() if k != "id"} == {
        "trigger": "seats-full",
        "metric": "seats",
        "usage": 3,
        "limit": 3,
        "plan": "free",
        "upgrade_plan": "team",
        "style": "modal",
        "title": "Your team is full",
        "body": "free includes 3 seats. Upgrade to team to invite more people.",
        "cta": {"label": "Upgrade", "url": "/billing/upgrade?plan=team"},
    }


async def test_an_account_never_put_is_on_the_default_plan(client: httpx.AsyncClient) -> None:
    await use(client, "newcomer", seats=3)

    [full] = await prompts(client, "newcomer")

    assert (full["trigger"], full["plan"], full["limit"]) == ("seats-full", "free", 3)


async def test_api_calls_at_85_percent_show_the_api_cap_banner(client: httpx.AsyncClient) -> None:
    await put_plan(client, "acme", "free")
    await use(client, "acme", api_calls=8500)

    [high] = await prompts(client, "acme")

    assert high["trigger"] == "api-calls-high"
    assert high["title"] == "85% of this month's API calls used"
    assert high["body"] == (
        "8500 of 10000 calls; 1500 left until the counter resets. team includes more calls a month."
    )
    assert high["cta"] == {"label": "See team", "url": "/billing/upgrade?plan=team&reason=api"}
    assert (high["usage"], high["limit"], high["style"]) == (8500, 10000, "banner")


async def test_api_calls_just_under_80_percent_show_nothing(client: httpx.AsyncClient) -> None:
    await put_plan(client, "acme", "free")
    await use(client, "acme", api_calls=7999)

    assert await prompts(client, "acme") == []


async def test_twenty_of_25_team_seats_bring_the_almost_full_banner(
    client: httpx.AsyncClient,
) -> None:
    await put_plan(client, "acme", "team")
    await use(client, "acme", seats=20)

    [almost] = await prompts(client, "acme")

    assert almost["trigger"] == "seats-almost-full"
    assert almost["title"] == "20 of 25 seats used"
    assert almost["body"] == "Upgrade to business to add more seats."
    assert almost["cta"] == {
        "label": "Upgrade to business",
        "url": "/billing/upgrade?plan=business",
    }
    assert (almost["plan"], almost["upgrade_plan"]) == ("team", "business")


async def test_nineteen_of_25_team_seats_show_nothing(client: httpx.AsyncClient) -> None:
    await put_plan(client, "acme", "team")
    await use(client, "acme", seats=19)

    assert await prompts(client, "acme") == []


async def test_a_placement_gets_only_the_triggers_that_may_show_there(
    client: httpx.AsyncClient,
) -> None:
    await put_plan(client, "acme", "team")
    await use(client, "acme", seats=20)

    assert await triggers(client, "acme", placement="members") == ["seats-almost-full"]
    assert await triggers(client, "acme", placement="global") == ["seats-almost-full"]
    assert await triggers(client, "acme", placement="api") == []
    assert await triggers(client, "acme") == ["seats-almost-full"]


async def test_a_trigger_without_placements_shows_in_every_placement(
    client: httpx.AsyncClient,
) -> None:
    await put_plan(client, "acme", "free")
    await use(client, "acme", seats=3, api_calls=8500)

    assert await triggers(client, "acme", placement="api") == ["seats-full", "api-calls-high"]
    assert await triggers(client, "acme", placement="members") == ["seats-full"]
    assert await triggers(client, "acme", placement="somewhere-else") == ["seats-full"]
    assert await triggers(client, "acme") == ["seats-full", "api-calls-high"]


async def test_prompts_across_metrics_come_by_priority_with_one_per_metric(
    client: httpx.AsyncClient,
) -> None:
    await put_plan(client, "acme", "free")
    await use(client, "acme", seats=3, dashboards=3, history_days=31, api_calls=10000)

    found = await prompts(client, "acme")

    # priorities: api-calls-capped 30, seats-full 20, dashboards-full 15, history-beyond-plan 5;
    # api-calls-high and seats-almost-full fire too but lose to the higher threshold
    assert [p["trigger"] for p in found] == [
        "api-calls-capped",
        "seats-full",
        "dashboards-full",
        "history-beyond-plan",
    ]
    assert found[0]["title"] == "You've reached this month's API limit"
    assert found[2]["title"] == "All 3 dashboards of free in use"
    assert found[3]["body"] == "You asked for 31 days. team keeps more history."


async def test_a_full_team_plan_names_business_as_the_upgrade(client: httpx.AsyncClient) -> None:
    await put_plan(client, "acme", "team")
    await use(client, "acme", seats=25)

    [full] = await prompts(client, "acme")

    assert full["trigger"] == "seats-full"
    assert full["body"] == "team includes 25 seats. Upgrade to business to invite more people."


async def test_the_top_plan_gets_no_prompts_however_much_it_uses(client: httpx.AsyncClient) -> None:
    await put_plan(client, "bigco", "business")
    await use(client, "bigco", seats=5000, dashboards=900, history_days=3650, api_calls=10**7)

    assert await prompts(client, "bigco") == []


async def test_an_account_whose_plan_left_the_rules_gets_no_prompts(
    client: httpx.AsyncClient, rules_dir: Path
) -> None:
    extra = rules_dir / "starter.yaml"
    extra.write_text("plans:\n  starter:\n    limits: {seats: 2}\n    upgrade_to: team\n")
    assert (await client.post("/v1/rules/reload")).status_code == 200
    await put_plan(client, "acme", "starter")
    await use(client, "acme", seats=2)
    assert await triggers(client, "acme") == ["seats-full"]

    extra.unlink()
    assert (await client.post("/v1/rules/reload")).status_code == 200

    assert await prompts(client, "acme") == []
    # until it is PUT again
    await put_plan(client, "acme", "free")
    await use(client, "acme", seats=3)
    assert await triggers(client, "acme") == ["seats-full"]


async def test_prompts_need_an_account_id_with_a_secret_key(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/prompts")

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"][0]["field"] == "account_id"


async def test_prompt_ids_are_opaque_and_differ_per_user(client: httpx.AsyncClient) -> None:
    await put_plan(client, "acme", "free")
    await use(client, "acme", seats=3)

    [for_ana] = await prompts(client, "acme", user_id="ana")
    [for_bob] = await prompts(client, "acme", user_id="bob")
    [for_anonymous] = await prompts(client, "acme")

    ids = {for_ana["id"], for_bob["id"], for_anonymous["id"]}
    assert len(ids) == 3
    for prompt_id in ids:
        assert "acme" not in prompt_id
        assert "seats" not in prompt_id
        assert "ana" not in prompt_id


async def test_a_prompt_id_takes_events_for_seven_days_and_not_after(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await put_plan(client, "acme", "free")
    await use(client, "acme", seats=3)
    [full] = await prompts(client, "acme", user_id="ana")
    events = f"/v1/prompts/{full['id']}/events"

    clock.advance(days=6, hours=23)
    assert (await client.post(events, json={"type": "clicked"})).status_code == 202

    clock.advance(days=1, hours=1)  # 8 days after it was issued
    expired = await client.post(events, json={"type": "clicked"})
    assert expired.status_code == 404
    assert expired.json()["error"]["code"] == "not_found"
    assert "expired" in expired.json()["error"]["message"]
