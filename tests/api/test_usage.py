"""POST /v1/usage: what accepted usage events do to an account's counters and gauges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.support.clock import FakeClock
from tests.support.redis_server import RedisServer
from tests.support.usage import event, post_events, usage_of

MID_MARCH = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_event_without_value_or_op_counts_one(client: httpx.AsyncClient) -> None:
    first = await post_events(client, event("e1"))
    second = await post_events(client, event("e2"))

    assert first.status_code == 202
    assert first.json() == {"accepted": 1, "duplicates": 0}
    assert second.json() == {"accepted": 1, "duplicates": 0}
    assert (await usage_of(client, "acme"))["api_calls"] == 2


async def test_incr_adds_its_value_to_a_counter(client: httpx.AsyncClient) -> None:
    await post_events(client, event("e1", value=40), event("e2", value=2, op="incr"))

    assert (await usage_of(client, "acme"))["api_calls"] == 42


async def test_set_puts_a_gauge_at_the_value(client: httpx.AsyncClient) -> None:
    await post_events(client, event("e1", "seats", value=5, op="set"))
    answer = await post_events(client, event("e2", "seats", value=2, op="set"))

    assert answer.status_code == 202
    assert (await usage_of(client, "acme"))["seats"] == 2


async def test_negative_incr_moves_a_gauge_down(client: httpx.AsyncClient) -> None:
    await post_events(client, event("e1", "dashboards", value=5, op="set"))
    answer = await post_events(client, event("e2", "dashboards", value=-2))

    assert answer.status_code == 202
    assert answer.json() == {"accepted": 1, "duplicates": 0}
    assert (await usage_of(client, "acme"))["dashboards"] == 3


async def test_repeated_id_is_a_duplicate_and_keeps_its_first_payload(
    client: httpx.AsyncClient,
) -> None:
    await post_events(client, event("seat-evt", "seats", value=2, op="set"))
    again = await post_events(client, event("seat-evt", "seats", value=7, op="set"))

    assert again.status_code == 202
    assert again.json() == {"accepted": 0, "duplicates": 1}
    assert (await usage_of(client, "acme"))["seats"] == 2


async def test_retried_counter_event_is_counted_once(client: httpx.AsyncClient) -> None:
    batch = [event("call-1", value=3), event("call-2", value=4)]
    await post_events(client, *batch)
    retry = await post_events(client, *batch)

    assert retry.json() == {"accepted": 0, "duplicates": 2}
    assert (await usage_of(client, "acme"))["api_calls"] == 7


async def test_same_id_twice_in_one_batch_counts_once(client: httpx.AsyncClient) -> None:
    answer = await post_events(client, event("twice", value=5), event("twice", value=5))

    assert answer.status_code == 202
    assert answer.json() == {"accepted": 1, "duplicates": 1}
    assert (await usage_of(client, "acme"))["api_calls"] == 5


async def test_event_ids_are_unique_per_account_not_globally(client: httpx.AsyncClient) -> None:
    answer = await post_events(client, event("same-id"), event("same-id", account="globex"))

    assert answer.json() == {"accepted": 2, "duplicates": 0}
    assert (await usage_of(client, "acme"))["api_calls"] == 1
    assert (await usage_of(client, "globex"))["api_calls"] == 1


async def test_empty_batch_is_accepted_with_nothing_counted(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/usage", json={"events": []})

    assert answer.status_code == 202
    assert answer.json() == {"accepted": 0, "duplicates": 0}


async def test_timestamp_with_an_offset_is_accepted(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.now = MID_MARCH
    answer = await post_events(client, event("e1", timestamp="2026-03-10T13:00:00+02:00"))

    assert answer.status_code == 202
    assert (await usage_of(client, "acme"))["api_calls"] == 1


async def test_event_from_an_earlier_window_counts_in_that_window(
    client: httpx.AsyncClient, clock: FakeClock, redis_server: RedisServer
) -> None:
    clock.now = MID_MARCH
    late = event("feb-call", value=7, timestamp="2026-02-20T10:00:00Z")
    current = event("mar-call", value=2, timestamp=rfc3339(MID_MARCH - timedelta(hours=1)))

    answer = await post_events(client, late, current)

    assert answer.json() == {"accepted": 2, "duplicates": 0}
    march = (await client.get("/v1/accounts/acme")).json()["usage"]["api_calls"]
    assert march == {
        "value": 2,
        "limit": 10000,
        "window": "month",
        "resets_at": "2026-04-01T00:00:00Z",
    }
    redis = redis_server.client()
    assert float(redis.get("nudge:{acme}:c:api_calls:m202602") or 0) == 7
    clock.now = datetime(2026, 2, 25, tzinfo=UTC)
    assert (await usage_of(client, "acme"))["api_calls"] == 7


async def test_late_event_still_keeps_its_id_once(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.now = MID_MARCH
    late = event("feb-call", value=7, timestamp="2026-02-20T10:00:00Z")
    await post_events(client, late)
    retry = await post_events(client, late)

    assert retry.json() == {"accepted": 0, "duplicates": 1}
    clock.now = datetime(2026, 2, 25, tzinfo=UTC)
    assert (await usage_of(client, "acme"))["api_calls"] == 7


async def test_counter_starts_again_at_zero_when_its_window_rolls_over(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)
    await post_events(client, event("calls", value=5), event("seats", "seats", value=2, op="set"))
    assert (await usage_of(client, "acme"))["api_calls"] == 5

    clock.advance(days=3)

    usage = (await client.get("/v1/accounts/acme")).json()["usage"]
    assert usage["api_calls"]["value"] == 0
    assert usage["api_calls"]["resets_at"] == "2026-05-01T00:00:00Z"
    assert usage["seats"]["value"] == 2  # gauges hold their level across windows
    await post_events(client, event("april-call", value=1))
    assert (await usage_of(client, "acme"))["api_calls"] == 1


async def test_one_batch_counts_for_several_accounts(client: httpx.AsyncClient) -> None:
    answer = await post_events(
        client,
        event("a1", value=2),
        event("g1", "seats", account="globex", value=4, op="set"),
        event("a2", "seats", value=1, op="set"),
        event("i1", "dashboards", account="initech", value=3),
    )

    assert answer.json() == {"accepted": 4, "duplicates": 0}
    acme, globex, initech = (
        await usage_of(client, "acme"),
        await usage_of(client, "globex"),
        await usage_of(client, "initech"),
    )
    assert (acme["api_calls"], acme["seats"]) == (2, 1)
    assert (globex["seats"], globex["api_calls"]) == (4, 0)
    assert initech["dashboards"] == 3


async def test_usage_of_a_never_put_account_is_judged_on_the_default_plan(
    client: httpx.AsyncClient,
) -> None:
    answer = await post_events(client, event("s", "seats", account="newco", value=3, op="set"))
    assert answer.status_code == 202

    account = (await client.get("/v1/accounts/newco")).json()
    assert account["plan"] == "free"
    assert account["usage"]["seats"] == {"value": 3, "limit": 3}
    prompts = (await client.get("/v1/prompts", params={"account_id": "newco"})).json()["prompts"]
    assert [p["trigger"] for p in prompts] == ["seats-full"]


async def test_fractional_values_add_up(client: httpx.AsyncClient) -> None:
    await post_events(
        client, event("h1", "history_days", value=0.5), event("h2", "history_days", value=1.25)
    )

    assert (await usage_of(client, "acme"))["history_days"] == 1.75


async def test_null_timestamp_means_now(client: httpx.AsyncClient) -> None:
    answer = await post_events(client, event("e1", timestamp=None))

    assert answer.status_code == 202, answer.text
    assert (await usage_of(client, "acme"))["api_calls"] == 1
