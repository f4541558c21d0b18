"""Ops endpoints: liveness, readiness, and the Prometheus metrics an operator watches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import NudgeFactory
from tests.support.metrics_text import sample


def label_values(metrics_text: str, name: str, label: str) -> set[str]:
    return {
        found.labels[label]
        for family in text_string_to_metric_families(metrics_text)
        for found in family.samples
        if found.name == name and label in found.labels
    }


async def scrape(client: httpx.AsyncClient) -> str:
    answer = await client.get("/metrics")
    assert answer.status_code == 200
    return answer.text


@pytest.fixture
async def anonymous(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """The same app, without credentials."""
    transport = httpx.ASGITransport(app=client.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://nudge.test") as http:
        yield http


async def full_team(client: httpx.AsyncClient) -> None:
    assert (await client.put("/v1/accounts/acme", json={"plan": "free"})).status_code == 200
    event = {"id": "seat-3", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"}
    assert (await client.post("/v1/usage", json={"events": [event]})).json() == {
        "accepted": 1,
        "duplicates": 0,
    }


async def test_liveness_answers_without_credentials(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/healthz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ok"}


async def test_readiness_reports_its_checks(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/readyz")

    assert answer.status_code == 200
    assert answer.json() == {"status": "ready", "checks": {"redis": "ok", "rules": "ok"}}


async def test_metrics_are_prometheus_text_without_credentials(
    anonymous: httpx.AsyncClient,
) -> None:
    answer = await anonymous.get("/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "# TYPE nudge_http_requests_total counter" in answer.text
    assert "# TYPE nudge_http_request_duration_seconds histogram" in answer.text


async def test_requests_are_counted_and_timed_by_route_template(client: httpx.AsyncClient) -> None:
    await full_team(client)
    for _ in range(3):
        assert (await client.get("/v1/prompts", params={"account_id": "acme"})).status_code == 200
    assert (await client.get("/v1/prompts")).status_code == 422
    assert (await client.get("/v1/accounts/acme")).status_code == 200

    text = await scrape(client)

    assert (
        sample(text, "nudge_http_requests_total", method="GET", route="/v1/prompts", status="200")
        == 3
    )
    assert (
        sample(text, "nudge_http_requests_total", method="GET", route="/v1/prompts", status="422")
        == 1
    )
    assert (
        sample(
            text,
            "nudge_http_requests_total",
            method="PUT",
            route="/v1/accounts/{account_id}",
            status="200",
        )
        == 1
    )
    assert (
        sample(text, "nudge_http_request_duration_seconds_count", method="GET", route="/v1/prompts")
        == 4
    )
    assert (
        sample(text, "nudge_http_request_duration_seconds_sum", method="GET", route="/v1/prompts")
        or 0
    ) > 0
    # raw paths would make one series per account
    assert "acme" not in " ".join(label_values(text, "nudge_http_requests_total", "route"))


async def test_unknown_paths_share_one_route_label(client: httpx.AsyncClient) -> None:
    for path in ("/nope", "/v1/nothing/here", "/wp-admin.php"):
        assert (await client.get(path)).status_code == 404

    routes = label_values(await scrape(client), "nudge_http_requests_total", "route")

    assert not routes & {"/nope", "/v1/nothing/here", "/wp-admin.php"}


async def test_prompts_served_are_counted_per_trigger(client: httpx.AsyncClient) -> None:
    await full_team(client)
    for user in ("ana", "bob"):
        await client.get("/v1/prompts", params={"account_id": "acme", "user_id": user})

    text = await scrape(client)

    assert sample(text, "nudge_prompts_served_total", trigger="seats-full") == 2
    assert sample(text, "nudge_prompts_served_total", trigger="seats-almost-full") is None


async def test_usage_events_are_counted_accepted_and_duplicate(client: httpx.AsyncClient) -> None:
    batch = {
        "events": [
            {"id": "e1", "account_id": "acme", "metric": "api_calls", "value": 10},
            {"id": "e2", "account_id": "acme", "metric": "api_calls", "value": 10},
        ]
    }
    assert (await client.post("/v1/usage", json=batch)).json() == {"accepted": 2, "duplicates": 0}
    assert (await client.post("/v1/usage", json=batch)).json() == {"accepted": 0, "duplicates": 2}

    text = await scrape(client)

    assert sample(text, "nudge_usage_events_total", result="accepted") == 2
    assert sample(text, "nudge_usage_events_total", result="duplicate") == 2


async def test_prompt_events_are_counted_per_type(client: httpx.AsyncClient) -> None:
    await full_team(client)
    [full] = (await client.get("/v1/prompts", params={"account_id": "acme"})).json()["prompts"]
    for event_type in ("shown", "shown", "clicked"):
        await client.post(f"/v1/prompts/{full['id']}/events", json={"type": event_type})

    text = await scrape(client)

    assert sample(text, "nudge_prompt_events_total", type="shown") == 2
    assert sample(text, "nudge_prompt_events_total", type="clicked") == 1


async def test_rule_reloads_are_counted_and_the_live_version_exported(
    client: httpx.AsyncClient, rules_dir: Path
) -> None:
    first = (await client.get("/v1/rules")).json()["version"]
    text = await scrape(client)
    assert sample(text, "nudge_rules_reload_total", result="success") == 1  # the load at start
    assert label_values(text, "nudge_rules_version_info", "version") == {first}
    assert sample(text, "nudge_rules_version_info", version=first) == 1

    (rules_dir / "broken.yaml").write_text("triggers: [{id: x, metric: nope}]\n")
    assert (await client.post("/v1/rules/reload")).status_code == 422
    text = await scrape(client)
    assert sample(text, "nudge_rules_reload_total", result="failure") == 1
    assert sample(text, "nudge_rules_last_reload_success") == 0
    assert label_values(text, "nudge_rules_version_info", "version") == {first}

    (rules_dir / "broken.yaml").unlink()
    core = rules_dir / "core.yaml"
    core.write_text(core.read_text().replace("priority: 20", "priority: 21"))
    second = (await client.post("/v1/rules/reload")).json()["version"]
    text = await scrape(client)
    assert second != first
    assert sample(text, "nudge_rules_reload_total", result="success") == 2
    assert sample(text, "nudge_rules_last_reload_success") == 1
    assert label_values(text, "nudge_rules_version_info", "version") == {second}


async def test_each_app_counts_only_its_own_requests(
    nudge_app: NudgeFactory, client: httpx.AsyncClient
) -> None:
    for _ in range(2):
        await client.get("/v1/prompts", params={"account_id": "acme"})

    async with nudge_app() as other:
        text = await scrape(other)

    assert (
        sample(text, "nudge_http_requests_total", method="GET", route="/v1/prompts", status="200")
        is None
    )
