"""Helpers for tests that post usage and read it back through the API."""

from __future__ import annotations

from typing import Any

import httpx


def event(
    event_id: str, metric: str = "api_calls", account: str = "acme", **fields: Any
) -> dict[str, Any]:
    return {"id": event_id, "account_id": account, "metric": metric, **fields}


async def post_events(client: httpx.AsyncClient, *events: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/usage", json={"events": list(events)})


async def usage_of(client: httpx.AsyncClient, account: str) -> dict[str, Any]:
    """metric -> value, as GET /v1/accounts/{account} shows it."""
    answer = await client.get(f"/v1/accounts/{account}")
    assert answer.status_code == 200, answer.text
    return {metric: entry["value"] for metric, entry in answer.json()["usage"].items()}
