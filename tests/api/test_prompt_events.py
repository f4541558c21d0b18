"""POST /v1/prompts/{id}/events: events kept in SQL, dismissals and their cooldowns, forged ids."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy

from app.services.client_tokens import mint_client_token
from app.services.prompt_ids import PromptIdCodec, PromptRef
from app.store import database
from tests.conftest import NudgeFactory
from tests.support.clock import FakeClock

SIGNING_SECRET = "test-signing-secret-0123456789-abcdefghijklmnop"  # as in tests/conftest.py


async def put_plan(client: httpx.AsyncClient, account_id: str, plan: str) -> None:
    answer = await client.put(f"/v1/accounts/{account_id}", json={"plan": plan})
    assert answer.status_code == 200, answer.text


async def set_seats(client: httpx.AsyncClient, account_id: str, seats: int) -> None:
    event = {
        "id": uuid.uuid4().hex,
        "account_id": account_id,
        "metric": "seats",
        "value": seats,
        "op": "set",
    }
    answer = await client.post("/v1/usage", json={"events": [event]})
    assert answer.status_code == 202, answer.text


async def prompts(
    client: httpx.AsyncClient, account_id: str = "acme", **params: str
) -> list[dict[str, Any]]:
    answer = await client.get("/v1/prompts", params={"account_id": account_id, **params})
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()["prompts"]
    return result


async def triggers(client: httpx.AsyncClient, account_id: str = "acme", **params: str) -> list[str]:
    return [p["trigger"] for p in await prompts(client, account_id, **params)]


async def report(client: httpx.AsyncClient, prompt_id: str, event_type: str) -> httpx.Response:
    return await client.post(f"/v1/prompts/{prompt_id}/events", json={"type": event_type})


async def dismiss(client: httpx.AsyncClient, prompt: dict[str, Any]) -> None:
    answer = await report(client, prompt["id"], "dismissed")
    assert answer.status_code == 202, answer.text


@pytest.fixture
async def full_team(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """acme on free with 3 of 3 seats: everyone sees seats-full."""
    await put_plan(client, "acme", "free")
    await set_seats(client, "acme", 3)
    return client


@pytest.fixture
def migrated_database_url(any_database_url: str) -> str:
    """SQLite or PostgreSQL at the latest migration (the app only migrates SQLite itself)."""
    engine = database.create_database_engine(any_database_url)
    try:
        database.upgrade(engine)
    finally:
        engine.dispose()
    return any_database_url


@pytest.fixture
async def on_any_database(
    nudge_app: NudgeFactory, migrated_database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with nudge_app(database_url=migrated_database_url) as http:
        await put_plan(http, "acme", "free")
        await set_seats(http, "acme", 3)
        yield http


def stored_events(database_url: str) -> list[tuple[Any, ...]]:
    engine = database.create_database_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sqlalchemy.text(
                    "SELECT account_id, user_id, trigger_id, type, prompt_issued_at, created_at "
                    "FROM prompt_events ORDER BY id"
                )
            )
            return [tuple(row) for row in rows]
    finally:
        engine.dispose()


def _naive_utc(value: Any) -> datetime:
    # SQLite returns text or naive datetimes, PostgreSQL aware ones: compare in naive UTC.
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, datetime)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


async def test_every_event_type_is_accepted_and_kept_in_sql(
    on_any_database: httpx.AsyncClient, migrated_database_url: str, clock: FakeClock
) -> None:
    client = on_any_database
    [full] = await prompts(client, user_id="ana")
    issued = clock.now

    clock.advance(minutes=1)
    for event_type in ("shown", "clicked", "converted", "dismissed"):
        answer = await report(client, full["id"], event_type)
        assert answer.status_code == 202, answer.text
        assert answer.json() == {"status": "accepted"}

    rows = stored_events(migrated_database_url)
    assert [row[:4] for row in rows] == [
        ("acme", "ana", "seats-full", "shown"),
        ("acme", "ana", "seats-full", "clicked"),
        ("acme", "ana", "seats-full", "converted"),
        ("acme", "ana", "seats-full", "dismissed"),
    ]
    issued_at, created_at = rows[0][4], rows[0][5]
    assert _naive_utc(issued_at) == _naive_utc(issued.replace(microsecond=0))
    assert abs(_naive_utc(created_at) - _naive_utc(clock.now)) < timedelta(seconds=1)


async def test_an_anonymous_event_is_kept_without_a_user(
    on_any_database: httpx.AsyncClient, migrated_database_url: str
) -> None:
    [full] = await prompts(on_any_database)

    assert (await report(on_any_database, full["id"], "shown")).status_code == 202

    assert [row[:4] for row in stored_events(migrated_database_url)] == [
        ("acme", None, "seats-full", "shown")
    ]


async def test_shown_and_clicked_do_not_hide_the_prompt(full_team: httpx.AsyncClient) -> None:
    [full] = await prompts(full_team, user_id="ana")

    await report(full_team, full["id"], "shown")
    await report(full_team, full["id"], "clicked")

    assert await triggers(full_team, user_id="ana") == ["seats-full"]


async def test_a_dismissed_prompt_stays_hidden_from_that_user_only(
    full_team: httpx.AsyncClient,
) -> None:
    [full] = await prompts(full_team, user_id="ana")

    await dismiss(full_team, full)

    assert await triggers(full_team, user_id="ana") == []
    assert await triggers(full_team, user_id="bob") == ["seats-full"]
    assert await triggers(full_team) == ["seats-full"]  # the account's anonymous user


async def test_an_anonymous_dismissal_hides_the_prompt_only_from_anonymous_requests(
    full_team: httpx.AsyncClient,
) -> None:
    [full] = await prompts(full_team)

    await dismiss(full_team, full)

    assert await triggers(full_team) == []
    assert await triggers(full_team, user_id="ana") == ["seats-full"]


async def test_a_dismissal_does_not_reach_another_account(full_team: httpx.AsyncClient) -> None:
    await put_plan(full_team, "globex", "free")
    await set_seats(full_team, "globex", 3)
    [full] = await prompts(full_team, "acme", user_id="ana")

    await dismiss(full_team, full)

    assert await triggers(full_team, "globex", user_id="ana") == ["seats-full"]


async def test_a_dismissed_prompt_comes_back_after_its_default_one_day_cooldown(
    full_team: httpx.AsyncClient, clock: FakeClock
) -> None:
    [full] = await prompts(full_team, user_id="ana")
    await dismiss(full_team, full)

    clock.advance(hours=23, minutes=59)
    assert await triggers(full_team, user_id="ana") == []

    clock.advance(minutes=2)
    assert await triggers(full_team, user_id="ana") == ["seats-full"]


async def test_the_almost_full_banner_stays_hidden_for_its_three_day_cooldown(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await put_plan(client, "acme", "team")
    await set_seats(client, "acme", 20)
    [almost] = await prompts(client, user_id="ana", placement="members")
    assert almost["trigger"] == "seats-almost-full"
    await dismiss(client, almost)

    clock.advance(days=2, hours=23)
    assert await triggers(client, user_id="ana", placement="members") == []

    clock.advance(hours=1, minutes=1)
    assert await triggers(client, user_id="ana", placement="members") == ["seats-almost-full"]


async def test_dismissing_the_full_modal_does_not_bring_up_the_almost_full_banner(
    full_team: httpx.AsyncClient, clock: FakeClock
) -> None:
    [full] = await prompts(full_team, user_id="ana")

    await dismiss(full_team, full)

    assert await triggers(full_team, user_id="ana") == []
    assert await triggers(full_team, user_id="ana", placement="members") == []
    clock.advance(hours=12)
    assert await triggers(full_team, user_id="ana", placement="members") == []


def _flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


@pytest.mark.parametrize("where", ["payload", "signature"])
async def test_an_altered_prompt_id_is_404_and_hides_nothing(
    full_team: httpx.AsyncClient, where: str
) -> None:
    [full] = await prompts(full_team, user_id="ana")
    payload, signature = full["id"].split(".")
    forged = (
        f"{_flip(payload, 3)}.{signature}"
        if where == "payload"
        else f"{payload}.{_flip(signature, 3)}"
    )

    answer = await report(full_team, forged, "dismissed")

    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error["code"] == "not_found"
    assert "GET /v1/prompts" in error["message"]
    assert await triggers(full_team, user_id="ana") == ["seats-full"]


@pytest.mark.parametrize("garbage", ["nonsense", "a.b.c", "....", "%00"])
async def test_a_malformed_prompt_id_is_404(full_team: httpx.AsyncClient, garbage: str) -> None:
    answer = await report(full_team, garbage, "shown")

    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


async def test_a_prompt_id_signed_with_another_secret_is_404(
    full_team: httpx.AsyncClient, clock: FakeClock
) -> None:
    foreign = PromptIdCodec("another-deployments-secret-0123456789-abcdef").encode(
        PromptRef("acme", "ana", "seats-full", clock.now)
    )

    answer = await report(full_team, foreign, "dismissed")

    assert answer.status_code == 404
    assert await triggers(full_team, user_id="ana") == ["seats-full"]


async def test_a_client_token_cannot_report_on_another_accounts_prompt(
    full_team: httpx.AsyncClient, clock: FakeClock
) -> None:
    [acme_prompt] = await prompts(full_team, user_id="ana")
    token = mint_client_token(
        "globex", "ana", secret=SIGNING_SECRET, now=clock.now, ttl=timedelta(hours=1)
    )

    answer = await full_team.post(
        f"/v1/prompts/{acme_prompt['id']}/events",
        json={"type": "dismissed"},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"
    assert await triggers(full_team, user_id="ana") == ["seats-full"]


async def test_a_client_token_reports_on_its_own_prompt(
    full_team: httpx.AsyncClient, clock: FakeClock
) -> None:
    token = mint_client_token(
        "acme", "ana", secret=SIGNING_SECRET, now=clock.now, ttl=timedelta(hours=1)
    )
    headers = {"Authorization": f"Bearer {token}"}
    answer = await full_team.get("/v1/prompts", headers=headers)
    [full] = answer.json()["prompts"]

    dismissed = await full_team.post(
        f"/v1/prompts/{full['id']}/events", json={"type": "dismissed"}, headers=headers
    )

    assert dismissed.status_code == 202
    assert (await full_team.get("/v1/prompts", headers=headers)).json()["prompts"] == []


@pytest.mark.parametrize(
    "body",
    [{"type": "seen"}, {"type": "DISMISSED"}, {}, {"type": "shown", "extra": 1}, {"type": 1}],
)
async def test_an_unknown_event_type_is_422(
    full_team: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    [full] = await prompts(full_team, user_id="ana")

    answer = await full_team.post(f"/v1/prompts/{full['id']}/events", json=body)

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"]
    assert await triggers(full_team, user_id="ana") == ["seats-full"]
