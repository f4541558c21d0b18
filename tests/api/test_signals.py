"""GET /v1/signals and an account's `signals`, over signals stored through the app's store."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.services.client_tokens import mint_client_token
from app.store import database
from app.store.signals import SignalRecord, SignalStore, new_signal
from tests.conftest import SIGNING_SECRET, NudgeFactory

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
USAGE = {"seats": 3, "dashboards": 0, "api_calls": 8501, "history_days": None}
# As the write paths record it: counters hold floats.
STORED_USAGE = {"seats": 3.0, "dashboards": 0.0, "api_calls": 8501.0, "history_days": None}


@pytest.fixture
async def api(nudge_app: NudgeFactory, any_database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app on SQLite or PostgreSQL, migrated first as `nudge db upgrade` would."""
    engine = database.create_database_engine(any_database_url)
    try:
        database.upgrade(engine)
    finally:
        engine.dispose()
    async with nudge_app(database_url=any_database_url) as http:
        yield http


@pytest.fixture
async def anonymous(api: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same running app that sends no Authorization header."""
    transport = httpx.ASGITransport(app=api.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://nudge.test") as http:
        yield http


def store_of(client: httpx.AsyncClient) -> SignalStore:
    store: SignalStore = client.app.state.runtime.signals.store  # type: ignore[attr-defined]
    return store


async def add(
    client: httpx.AsyncClient,
    account: str = "acme",
    *,
    at: datetime = T0,
    trigger: str = "seats-pql",
) -> SignalRecord:
    record = new_signal(
        "pql",
        account_id=account,
        trigger_id=trigger,
        plan="free",
        usage=STORED_USAGE,
        fired_at=at,
    )
    await store_of(client).add(record)
    return record


async def listed(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    answer = await client.get("/v1/signals", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def invalid(answer: httpx.Response, field: str) -> str:
    """The message of a 422 about one query parameter."""
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert [d["field"] for d in error["details"]] == [field]
    assert error["message"].startswith(f"invalid request: {field}: ")
    message: str = error["details"][0]["message"]
    assert message in error["message"]
    return message


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def test_signals_are_listed_with_the_record_webhooks_will_carry(
    api: httpx.AsyncClient,
) -> None:
    # whole numbers read as integers, as in the account's usage
    first = await add(api, "acme", at=T0)
    second = await add(api, "globex", at=T0 + timedelta(minutes=1, microseconds=250))

    body = await listed(api, type="pql")

    assert body == {
        "signals": [
            {
                "id": first.id,
                "type": "pql",
                "account_id": "acme",
                "trigger": "seats-pql",
                "plan": "free",
                "usage": USAGE,
                "fired_at": "2026-11-26T09:00:00Z",
                "delivery": {"state": "pending", "attempts": 0, "delivered_at": None},
            },
            {
                "id": second.id,
                "type": "pql",
                "account_id": "globex",
                "trigger": "seats-pql",
                "plan": "free",
                "usage": USAGE,
                "fired_at": "2026-11-26T09:01:00.000250Z",
                "delivery": {"state": "pending", "attempts": 0, "delivered_at": None},
            },
        ],
        "next_cursor": None,
    }


async def test_no_signals_is_an_empty_list(api: httpx.AsyncClient) -> None:
    assert await listed(api) == {"signals": [], "next_cursor": None}


async def test_signals_are_listed_in_the_order_they_were_stored(api: httpx.AsyncClient) -> None:
    # Replicas' clocks differ: the order is the order of storing, not of fired_at.
    await add(api, "late-clock", at=T0 + timedelta(seconds=2))
    await add(api, "early-clock", at=T0)

    body = await listed(api)

    assert [s["account_id"] for s in body["signals"]] == ["late-clock", "early-clock"]


async def test_since_keeps_signals_fired_at_or_after_it(api: httpx.AsyncClient) -> None:
    await add(api, "before", at=T0 - timedelta(seconds=1))
    await add(api, "at", at=T0)
    await add(api, "after", at=T0 + timedelta(hours=1))

    utc = await listed(api, type="pql", since="2026-11-26T09:00:00Z")
    paris = await listed(api, since="2026-11-26T10:00:00+01:00")  # the same instant
    later = await listed(api, since="2026-11-26T09:00:00.000001z")

    assert [s["account_id"] for s in utc["signals"]] == ["at", "after"]
    assert [s["account_id"] for s in paris["signals"]] == ["at", "after"]
    assert [s["account_id"] for s in later["signals"]] == ["after"]


async def test_pages_follow_next_cursor_until_it_is_null(api: httpx.AsyncClient) -> None:
    stored = [await add(api, f"acct-{i}", at=T0 + timedelta(minutes=i)) for i in range(5)]

    pages: list[list[str]] = []
    params: dict[str, Any] = {"type": "pql", "limit": 2}
    while True:
        body = await listed(api, **params)
        pages.append([s["id"] for s in body["signals"]])
        if body["next_cursor"] is None:
            break
        params["cursor"] = body["next_cursor"]

    ids = [r.id for r in stored]
    assert pages == [ids[0:2], ids[2:4], ids[4:5]]


async def test_a_cursor_keeps_its_place_when_new_signals_arrive(api: httpx.AsyncClient) -> None:
    first = [await add(api, f"acct-{i}") for i in range(3)]
    page = await listed(api, limit=3)
    assert page["next_cursor"] is None

    newer = await add(api, "newer")
    more = await add(api, "more")
    one = await listed(api, limit=1)
    rest = await listed(api, limit=10, cursor=one["next_cursor"])

    assert [s["id"] for s in page["signals"]] == [r.id for r in first]
    assert [s["id"] for s in rest["signals"]] == [r.id for r in [*first[1:], newer, more]]


async def test_a_cursor_combines_with_since(api: httpx.AsyncClient) -> None:
    await add(api, "old", at=T0 - timedelta(days=1))
    recent = [await add(api, f"recent-{i}", at=T0 + timedelta(minutes=i)) for i in range(3)]

    first = await listed(api, since="2026-11-26T09:00:00Z", limit=2)
    second = await listed(api, since="2026-11-26T09:00:00Z", limit=2, cursor=first["next_cursor"])

    assert [s["id"] for s in first["signals"]] == [r.id for r in recent[:2]]
    assert [s["id"] for s in second["signals"]] == [recent[2].id]
    assert second["next_cursor"] is None


async def test_a_page_holds_100_signals_unless_limit_says_otherwise(
    api: httpx.AsyncClient,
) -> None:
    for i in range(101):
        await add(api, f"acct-{i}")

    default = await listed(api)
    one = await listed(api, limit=1)
    most = await listed(api, limit=1000)

    assert len(default["signals"]) == 100
    assert default["next_cursor"] is not None
    assert len((await listed(api, cursor=default["next_cursor"]))["signals"]) == 1
    assert len(one["signals"]) == 1
    assert len(most["signals"]) == 101
    assert most["next_cursor"] is None


async def test_an_unknown_type_is_422_naming_the_known_types(api: httpx.AsyncClient) -> None:
    message = invalid(await api.get("/v1/signals", params={"type": "mql"}), "type")

    assert message == 'unknown signal type "mql"; the known types are: pql'


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("2026-11-26T09:00:00", '"2026-11-26T09:00:00" has no time zone; add Z for UTC'),
        ("2026-11-26", '"2026-11-26" has no time zone'),
        ("yesterday", 'must be an RFC 3339 time such as 2026-11-25T10:00:00Z, not "yesterday"'),
        ("1795640000", "must be an RFC 3339 time"),
    ],
)
async def test_a_since_that_is_not_a_time_with_a_zone_is_422(
    api: httpx.AsyncClient, since: str, expected: str
) -> None:
    message = invalid(await api.get("/v1/signals", params={"since": since}), "since")

    assert expected in message


async def test_an_unencoded_plus_in_since_is_422_saying_how_to_send_it(
    api: httpx.AsyncClient,
) -> None:
    # In a query string an unencoded + is a space.
    answer = await api.get("/v1/signals?since=2026-11-26T10:00:00+01:00")

    assert "send the + of an offset as %2B" in invalid(answer, "since")


@pytest.mark.parametrize("limit", ["0", "1001", "-5"])
async def test_a_limit_outside_1_to_1000_is_422(api: httpx.AsyncClient, limit: str) -> None:
    message = invalid(await api.get("/v1/signals", params={"limit": limit}), "limit")

    assert message == f"must be from 1 to 1000, not {limit}"


async def test_a_limit_that_is_not_a_number_is_422(api: httpx.AsyncClient) -> None:
    message = invalid(await api.get("/v1/signals", params={"limit": "ten"}), "limit")

    assert "valid integer" in message


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "nope!",
        "12",
        cursor_of("seq:abc"),
        cursor_of("seq:-1"),
        cursor_of("page:3"),
        cursor_of("seq:" + "9" * 19),
        cursor_of("seq:1") * 20,
    ],
)
async def test_a_cursor_this_service_did_not_issue_is_422(
    api: httpx.AsyncClient, cursor: str
) -> None:
    message = invalid(await api.get("/v1/signals", params={"cursor": cursor}), "cursor")

    assert message.startswith("is not a cursor this service issued; pass the next_cursor")


async def test_an_unknown_query_parameter_is_422_so_a_typo_never_widens_the_list(
    api: httpx.AsyncClient,
) -> None:
    message = invalid(await api.get("/v1/signals", params={"typ": "pql"}), "typ")

    assert message == "is not a known field"


async def test_every_bad_parameter_is_named_at_once(api: httpx.AsyncClient) -> None:
    answer = await api.get("/v1/signals", params={"type": "x", "limit": "0", "cursor": "?"})

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert [d["field"] for d in error["details"]] == ["type", "limit", "cursor"]
    assert error["message"].endswith("(and 2 more)")


async def test_signals_need_credentials(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/v1/signals")

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"
    assert answer.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("params", [{}, {"type": "mql"}], ids=["valid query", "invalid query"])
async def test_a_client_token_may_not_list_signals(
    api: httpx.AsyncClient, anonymous: httpx.AsyncClient, params: dict[str, str]
) -> None:
    await add(api, "acme")
    token = mint_client_token(
        "acme", "ana", secret=SIGNING_SECRET, now=datetime.now(UTC), ttl=timedelta(minutes=5)
    )

    answer = await anonymous.get(
        "/v1/signals", params=params, headers={"Authorization": f"Bearer {token}"}
    )

    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "forbidden"
    assert "this route needs a secret key" in error["message"]
    assert "acme" not in answer.text


async def test_an_account_shows_its_latest_signals_first(api: httpx.AsyncClient) -> None:
    older = await add(api, "acme", at=T0, trigger="seats-pql")
    await add(api, "globex", at=T0 + timedelta(minutes=1))
    newer = await add(api, "acme", at=T0 + timedelta(minutes=2), trigger="api-pql")

    account = (await api.get("/v1/accounts/acme")).json()

    assert [s["id"] for s in account["signals"]] == [newer.id, older.id]
    assert account["signals"][0] == {
        "id": newer.id,
        "type": "pql",
        "account_id": "acme",
        "trigger": "api-pql",
        "plan": "free",
        "usage": USAGE,
        "fired_at": "2026-11-26T09:02:00Z",
        "delivery": {"state": "pending", "attempts": 0, "delivered_at": None},
    }


async def test_an_account_shows_at_most_20_signals(api: httpx.AsyncClient) -> None:
    stored = [await add(api, "acme", at=T0 + timedelta(minutes=i)) for i in range(21)]

    account = (await api.get("/v1/accounts/acme")).json()

    assert [s["id"] for s in account["signals"]] == [r.id for r in reversed(stored[1:])]


async def test_an_account_without_signals_has_an_empty_list(api: httpx.AsyncClient) -> None:
    await add(api, "globex")

    assert (await api.get("/v1/accounts/acme")).json()["signals"] == []


async def test_the_put_answer_shows_the_accounts_signals_too(api: httpx.AsyncClient) -> None:
    record = await add(api, "acme")

    answer = await api.put("/v1/accounts/acme", json={"plan": "team"})

    assert answer.status_code == 200
    assert [s["id"] for s in answer.json()["signals"]] == [record.id]


async def test_openapi_documents_the_signals_route_and_field(api: httpx.AsyncClient) -> None:
    document = (await api.get("/openapi.json")).json()

    route = document["paths"]["/v1/signals"]["get"]
    parameters = {p["name"]: p for p in route["parameters"]}
    assert set(parameters) == {"type", "since", "limit", "cursor"}
    assert not any(p["required"] for p in parameters.values())
    assert parameters["limit"]["schema"]["default"] == 100
    assert parameters["limit"]["schema"]["maximum"] == 1000
    assert {"200", "401", "403", "422", "503"} <= set(route["responses"])
    assert route["security"] == [{"HTTPBearer": []}]
    schemas = document["components"]["schemas"]
    assert set(schemas["SignalsOut"]["properties"]) == {"signals", "next_cursor"}
    assert set(schemas["SignalOut"]["properties"]) == {
        "id",
        "type",
        "account_id",
        "trigger",
        "plan",
        "usage",
        "fired_at",
        "delivery",
    }
    assert "signals" in schemas["AccountOut"]["properties"]
