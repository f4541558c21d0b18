"""Limits that protect the service: client tokens are rate-limited per account and user on
the two browser routes, bad credentials per client address, and client tokens may not
live longer than NUDGE_CLIENT_TOKEN_MAX_TTL. Over a limit: 429 with Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest

from app.services.client_tokens import mint_client_token
from tests.conftest import API_KEY, SIGNING_SECRET, NudgeFactory
from tests.support.clock import FakeClock


@pytest.fixture
def token(clock: FakeClock) -> Callable[..., str]:
    def mint(
        account: str, user: str | None = None, *, ttl: timedelta = timedelta(minutes=15)
    ) -> str:
        return mint_client_token(account, user, secret=SIGNING_SECRET, now=clock.now, ttl=ttl)

    return mint


@asynccontextmanager
async def caller(
    app_client: httpx.AsyncClient, *, credential: str | None, address: str = "203.0.113.7"
) -> AsyncIterator[httpx.AsyncClient]:
    """Another client of the same running app, from `address`, with `credential`."""
    transport = httpx.ASGITransport(app=app_client.app, client=(address, 40000))  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {credential}"} if credential else {}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://nudge.test", headers=headers
    ) as http:
        yield http


async def prompts_status(http: httpx.AsyncClient) -> int:
    return (await http.get("/v1/prompts")).status_code


async def test_a_client_token_flood_gets_429_while_another_accounts_token_gets_200(
    client: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    async with (
        caller(client, credential=token("acme", "ana")) as flood,
        caller(client, credential=token("globex", "gus")) as other,
    ):
        statuses = [await prompts_status(flood) for _ in range(121)]

        assert statuses[:120] == [200] * 120
        assert statuses[120] == 429
        assert await prompts_status(other) == 200


async def test_over_the_limit_the_answer_says_why_and_when_to_retry(
    client: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    async with caller(client, credential=token("acme", "ana")) as flood:
        for _ in range(120):
            await flood.get("/v1/prompts")

        answer = await flood.get("/v1/prompts")

    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"  # 120/minute: one more every half second
    error = answer.json()["error"]
    assert error["code"] == "rate_limited"
    assert "120/minute" in error["message"]
    assert "retry in 1 s" in error["message"]


async def test_retry_after_is_the_whole_seconds_until_a_request_passes(
    nudge_app: NudgeFactory, clock: FakeClock, token: Callable[..., str]
) -> None:
    async with (
        nudge_app(client_rate_limit="2/minute") as app_client,
        caller(app_client, credential=token("acme", "ana")) as browser,
    ):
        assert [await prompts_status(browser) for _ in range(2)] == [200, 200]
        first = await browser.get("/v1/prompts")
        assert (first.status_code, first.headers["Retry-After"]) == (429, "30")

        clock.advance(seconds=29.5)
        almost = await browser.get("/v1/prompts")
        assert (almost.status_code, almost.headers["Retry-After"]) == (429, "1")

        clock.advance(seconds=0.5)
        assert await prompts_status(browser) == 200
        assert await prompts_status(browser) == 429


async def test_the_two_browser_routes_share_one_budget_per_account_and_user(
    nudge_app: NudgeFactory, token: Callable[..., str]
) -> None:
    async with nudge_app(client_rate_limit="3/minute") as app_client:
        await app_client.post(
            "/v1/usage",
            json={
                "events": [
                    {"id": "s", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"}
                ]
            },
        )
        async with (
            caller(app_client, credential=token("acme", "ana")) as ana,
            caller(app_client, credential=token("acme", "bo")) as bo,
        ):
            [prompt] = (await ana.get("/v1/prompts")).json()["prompts"]
            shown = await ana.post(f"/v1/prompts/{prompt['id']}/events", json={"type": "shown"})
            assert shown.status_code == 202
            assert await prompts_status(ana) == 200
            over = await ana.post(f"/v1/prompts/{prompt['id']}/events", json={"type": "clicked"})
            assert over.status_code == 429
            assert await prompts_status(ana) == 429
            assert await prompts_status(bo) == 200  # another user of the same account


async def test_secret_keys_are_not_limited_by_the_client_rate_limit(
    nudge_app: NudgeFactory,
) -> None:
    async with nudge_app(client_rate_limit="2/minute") as app_client:
        statuses = [
            (await app_client.get("/v1/prompts", params={"account_id": "acme"})).status_code
            for _ in range(10)
        ]
    assert statuses == [200] * 10


async def test_a_client_rate_limit_of_0_is_off(
    nudge_app: NudgeFactory, token: Callable[..., str]
) -> None:
    async with (
        nudge_app(client_rate_limit="0") as app_client,
        caller(app_client, credential=token("acme", "ana")) as browser,
    ):
        statuses = {await prompts_status(browser) for _ in range(300)}
    assert statuses == {200}


async def test_repeated_bad_credentials_get_429_per_client_address(
    client: httpx.AsyncClient,
) -> None:
    async with (
        caller(client, credential="not-a-key", address="198.51.100.1") as guesser,
        caller(client, credential=None, address="198.51.100.1") as keyless,
        caller(client, credential="not-a-key", address="198.51.100.2") as neighbour,
    ):
        statuses = [(await guesser.get("/v1/rules")).status_code for _ in range(30)]
        assert statuses == [401] * 30

        over = await guesser.get("/v1/rules")
        assert over.status_code == 429
        assert int(over.headers["Retry-After"]) == 2  # 30/minute: one more every 2 s
        assert over.json()["error"]["code"] == "rate_limited"
        assert "bad credential" in over.json()["error"]["message"]
        assert await prompts_status(keyless) == 429  # a missing credential counts the same
        assert (await neighbour.get("/v1/rules")).status_code == 401


async def test_a_good_credential_is_served_from_an_address_over_the_failure_limit(
    client: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    # One misconfigured process must not lock out its healthy neighbours behind one NAT.
    async with (
        caller(client, credential="not-a-key", address="198.51.100.1") as broken,
        caller(client, credential=API_KEY, address="198.51.100.1") as healthy,
        caller(client, credential=token("acme", "ana"), address="198.51.100.1") as browser,
    ):
        for _ in range(31):
            await broken.get("/v1/rules")
        assert (await broken.get("/v1/rules")).status_code == 429

        assert (await healthy.get("/v1/rules")).status_code == 200
        assert await prompts_status(browser) == 200


async def test_bad_credentials_pass_again_once_the_window_moves_on(
    nudge_app: NudgeFactory, clock: FakeClock
) -> None:
    async with (
        nudge_app(auth_failure_limit="2/minute") as app_client,
        caller(app_client, credential="not-a-key") as guesser,
    ):
        assert [(await guesser.get("/v1/rules")).status_code for _ in range(3)] == [401, 401, 429]
        clock.advance(seconds=30)
        assert (await guesser.get("/v1/rules")).status_code == 401


async def test_an_auth_failure_limit_of_0_is_off(nudge_app: NudgeFactory) -> None:
    async with (
        nudge_app(auth_failure_limit="0") as app_client,
        caller(app_client, credential="not-a-key") as guesser,
    ):
        statuses = {(await guesser.get("/v1/rules")).status_code for _ in range(100)}
    assert statuses == {401}


async def test_a_client_token_that_lives_longer_than_the_maximum_is_401_saying_how_to_mint(
    client: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    async with caller(client, credential=token("acme", "ana", ttl=timedelta(hours=25))) as browser:
        answer = await browser.get("/v1/prompts")

    assert answer.status_code == 401
    message = answer.json()["error"]["message"]
    assert "NUDGE_CLIENT_TOKEN_MAX_TTL" in message
    assert "mint tokens that live at most 1d" in message


async def test_a_client_token_of_exactly_the_maximum_lifetime_is_accepted(
    client: httpx.AsyncClient, token: Callable[..., str]
) -> None:
    async with caller(client, credential=token("acme", "ana", ttl=timedelta(hours=24))) as browser:
        assert await prompts_status(browser) == 200


async def test_the_maximum_lifetime_is_a_setting_and_0_turns_it_off(
    nudge_app: NudgeFactory, token: Callable[..., str]
) -> None:
    week = token("acme", "ana", ttl=timedelta(days=7))
    async with (
        nudge_app(client_token_max_ttl="1h") as strict,
        caller(strict, credential=token("acme", "ana", ttl=timedelta(hours=2))) as browser,
    ):
        assert await prompts_status(browser) == 401
    async with (
        nudge_app(client_token_max_ttl="0") as lenient,
        caller(lenient, credential=week) as browser,
    ):
        assert await prompts_status(browser) == 200
