"""POST /v1/usage: a batch is validated whole; one bad event, or too much, applies nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support.clock import FakeClock
from tests.support.usage import event, post_events, usage_of

MID_MARCH = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def test_batch_of_more_than_1000_events_is_refused_whole(client: httpx.AsyncClient) -> None:
    answer = await post_events(client, *(event(f"e{i}") for i in range(1001)))

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert "1,000" in error["message"]
    assert [detail["field"] for detail in error["details"]] == ["events"]
    assert (await usage_of(client, "acme"))["api_calls"] == 0


async def test_batch_of_exactly_1000_events_is_accepted(client: httpx.AsyncClient) -> None:
    answer = await post_events(client, *(event(f"e{i}") for i in range(1000)))

    assert answer.status_code == 202
    assert answer.json() == {"accepted": 1000, "duplicates": 0}
    assert (await usage_of(client, "acme"))["api_calls"] == 1000


async def test_body_over_1_mib_is_413_and_applies_nothing(client: httpx.AsyncClient) -> None:
    # Valid JSON (trailing whitespace is allowed), so only its size can refuse it.
    body = '{"events": [{"id": "big", "account_id": "acme", "metric": "api_calls"}]}'
    body += " " * (1024 * 1024)

    answer = await client.post(
        "/v1/usage", content=body, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 413
    error = answer.json()["error"]
    assert error["code"] == "payload_too_large"
    assert "KiB" in error["message"]
    assert error["details"] == []
    assert (await usage_of(client, "acme"))["api_calls"] == 0


async def test_body_just_under_1_mib_is_read(client: httpx.AsyncClient) -> None:
    body = '{"events": [{"id": "big", "account_id": "acme", "metric": "api_calls"}]}'
    body += " " * (1024 * 1024 - len(body))

    answer = await client.post(
        "/v1/usage", content=body, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 202
    assert answer.json() == {"accepted": 1, "duplicates": 0}


BAD_EVENTS: dict[str, tuple[dict[str, Any], str]] = {
    "unknown metric": ({"id": "bad", "account_id": "acme", "metric": "seatz"}, "metric"),
    "set on a counter": (
        {"id": "bad", "account_id": "acme", "metric": "api_calls", "op": "set", "value": 5},
        "op",
    ),
    "negative incr on a counter": (
        {"id": "bad", "account_id": "acme", "metric": "api_calls", "value": -1},
        "value",
    ),
    "string value": (
        {"id": "bad", "account_id": "acme", "metric": "seats", "value": "3", "op": "set"},
        "value",
    ),
    "boolean value": (
        {"id": "bad", "account_id": "acme", "metric": "seats", "value": True},
        "value",
    ),
    "unknown op": ({"id": "bad", "account_id": "acme", "metric": "seats", "op": "add"}, "op"),
    "missing id": ({"account_id": "acme", "metric": "api_calls"}, "id"),
    "empty id": ({"id": "", "account_id": "acme", "metric": "api_calls"}, "id"),
    "missing account_id": ({"id": "bad", "metric": "api_calls"}, "account_id"),
    "account id with a space": (
        {"id": "bad", "account_id": "a b", "metric": "api_calls"},
        "account_id",
    ),
    "account id with braces": (
        {"id": "bad", "account_id": "x{y}", "metric": "api_calls"},
        "account_id",
    ),
    "account id with a colon": (
        {"id": "bad", "account_id": "acme:ev", "metric": "api_calls"},
        "account_id",
    ),
    "unknown field": (
        {"id": "bad", "account_id": "acme", "metric": "api_calls", "count": 2},
        "count",
    ),
    "timestamp without time zone": (
        {
            "id": "bad",
            "account_id": "acme",
            "metric": "api_calls",
            "timestamp": "2026-03-10T11:00:00",
        },
        "timestamp",
    ),
    "timestamp that is not a date": (
        {"id": "bad", "account_id": "acme", "metric": "api_calls", "timestamp": "yesterday"},
        "timestamp",
    ),
    "timestamp as a number": (
        {"id": "bad", "account_id": "acme", "metric": "api_calls", "timestamp": 1773140400},
        "timestamp",
    ),
    "timestamp more than 5 minutes ahead": (
        {
            "id": "bad",
            "account_id": "acme",
            "metric": "api_calls",
            "timestamp": "2026-03-10T12:06:00Z",
        },
        "timestamp",
    ),
    "timestamp more than 35 days old": (
        {
            "id": "bad",
            "account_id": "acme",
            "metric": "api_calls",
            "timestamp": "2026-02-03T11:59:00Z",
        },
        "timestamp",
    ),
}


@pytest.mark.parametrize(("bad", "field"), BAD_EVENTS.values(), ids=BAD_EVENTS.keys())
async def test_one_bad_event_refuses_the_whole_batch_and_names_its_index(
    client: httpx.AsyncClient, clock: FakeClock, bad: dict[str, Any], field: str
) -> None:
    clock.now = MID_MARCH
    good_before = event("ok-1", value=5)
    good_after = event("ok-2", "seats", account="globex", value=2, op="set")

    answer = await post_events(client, good_before, bad, good_after)

    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert "nothing was applied" in error["message"]
    assert error["details"], error
    for detail in error["details"]:
        assert detail["index"] == 1
        assert detail["field"] == f"events[1].{field}"
        assert detail["message"]
    assert (await usage_of(client, "acme"))["api_calls"] == 0
    assert (await usage_of(client, "globex"))["seats"] == 0
    # Not even the good events' ids were remembered: sent again alone, they count.
    retry = await post_events(client, good_before, good_after)
    assert retry.json() == {"accepted": 2, "duplicates": 0}


async def test_unknown_metric_error_lists_the_known_metrics(client: httpx.AsyncClient) -> None:
    answer = await post_events(client, event("e1", "seatz"))

    detail = answer.json()["error"]["details"][0]
    assert "seatz" in detail["message"]
    assert "seats" in detail["message"]
    assert "api_calls" in detail["message"]


async def test_every_bad_event_of_a_batch_is_named(client: httpx.AsyncClient) -> None:
    answer = await post_events(
        client, event("bad-1", "nope"), event("fine"), event("bad-2", op="set", value=1)
    )

    assert answer.status_code == 422
    assert sorted(d["index"] for d in answer.json()["error"]["details"]) == [0, 2]
