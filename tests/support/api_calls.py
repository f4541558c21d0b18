"""The calls a host product makes to the app under test (tests/conftest.py's in-process
client), each asserting that the app accepted it: report usage, PUT a plan, fetch the
prompts, report one shown, list the signals."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.clock import FakeClock


async def set_usage(client: httpx.AsyncClient, account: str = "acme", **levels: float) -> None:
    """Gauges set to a level; api_calls (a counter) counted up by it."""
    events = []
    for metric, value in levels.items():
        event: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "account_id": account,
            "metric": metric,
            "value": value,
        }
        if metric != "api_calls":
            event["op"] = "set"
        events.append(event)
    answer = await client.post("/v1/usage", json={"events": events})
    assert answer.status_code == 202, answer.text


async def put_plan(client: httpx.AsyncClient, plan: str, account: str = "acme") -> None:
    answer = await client.put(f"/v1/accounts/{account}", json={"plan": plan})
    assert answer.status_code == 200, answer.text


async def prompts(
    client: httpx.AsyncClient, user: str | None = "ana", account: str = "acme"
) -> list[dict[str, Any]]:
    """The user's prompts, from an answer that is not degraded."""
    params = {"account_id": account}
    if user is not None:
        params["user_id"] = user
    answer = await client.get("/v1/prompts", params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["degraded"] is False
    found: list[dict[str, Any]] = body["prompts"]
    return found


async def triggers(
    client: httpx.AsyncClient, user: str | None = "ana", account: str = "acme"
) -> list[str]:
    return [p["trigger"] for p in await prompts(client, user, account)]


async def report_shown(client: httpx.AsyncClient, prompt: dict[str, Any]) -> None:
    answer = await client.post(f"/v1/prompts/{prompt['id']}/events", json={"type": "shown"})
    assert answer.status_code == 202, answer.text


async def show(
    client: httpx.AsyncClient,
    clock: FakeClock,
    trigger: str,
    user: str | None = "ana",
    account: str = "acme",
) -> None:
    """Fetch the user's prompts and report `trigger`'s shown, as a frontend does; then let a
    second pass, so the next fetch issues a new prompt id."""
    found = {p["trigger"]: p for p in await prompts(client, user, account)}
    assert trigger in found, f"{trigger} is not in {sorted(found)}"
    await report_shown(client, found[trigger])
    clock.advance(seconds=1)


async def signals(client: httpx.AsyncClient, **params: str) -> list[dict[str, Any]]:
    """GET /v1/signals?type=pql with these parameters."""
    answer = await client.get("/v1/signals", params={"type": "pql", **params})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["signals"]
    return found


async def fired(client: httpx.AsyncClient) -> list[tuple[str, str, str]]:
    """(account, trigger, fired_at) of every signal, the first stored first."""
    return [(s["account_id"], s["trigger"], s["fired_at"]) for s in await signals(client)]


async def rules(client: httpx.AsyncClient) -> dict[str, Any]:
    """GET /v1/rules: the live rule set, its version and its last error."""
    answer = await client.get("/v1/rules")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def seats_full_title(client: httpx.AsyncClient) -> str:
    """The title of acme's one prompt, which is seats-full's."""
    answer = await client.get("/v1/prompts", params={"account_id": "acme"})
    [prompt] = answer.json()["prompts"]
    assert prompt["trigger"] == "seats-full"
    title: str = prompt["title"]
    return title
