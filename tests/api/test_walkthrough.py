"""The README's worked example, end to end through the HTTP API."""

from __future__ import annotations

import httpx


async def test_third_seat_brings_the_full_team_modal_and_dismissing_hides_it(
    client: httpx.AsyncClient,
) -> None:
    put = await client.put("/v1/accounts/acme", json={"plan": "free"})
    assert put.status_code == 200
    assert put.json()["plan"] == "free"

    usage = await client.post(
        "/v1/usage",
        json={
            "events": [
                {"id": "seat-3", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"}
            ]
        },
    )
    assert usage.status_code == 202
    assert usage.json() == {"accepted": 1, "duplicates": 0}

    answer = await client.get("/v1/prompts", params={"account_id": "acme", "user_id": "ana"})
    assert answer.status_code == 200
    prompts = answer.json()["prompts"]
    assert [p["trigger"] for p in prompts] == ["seats-full"]
    full = prompts[0]
    assert full["title"] == "Your team is full"
    assert full["body"] == "free includes 3 seats. Upgrade to team to invite more people."
    assert full["cta"] == {"label": "Upgrade", "url": "/billing/upgrade?plan=team"}
    assert (full["usage"], full["limit"], full["plan"], full["upgrade_plan"]) == (
        3,
        3,
        "free",
        "team",
    )

    dismissed = await client.post(f"/v1/prompts/{full['id']}/events", json={"type": "dismissed"})
    assert dismissed.status_code == 202

    again = await client.get("/v1/prompts", params={"account_id": "acme", "user_id": "ana"})
    assert again.json()["prompts"] == []
