"""Who may call what: secret keys, client tokens confined to their account and user, and 401s."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from app.services.client_tokens import mint_client_token
from tests.conftest import API_KEY, SIGNING_SECRET


def token_for(
    account: str, user: str | None = None, *, ttl: timedelta = timedelta(minutes=15)
) -> str:
    # Tokens expire by the wall clock (PyJWT checks `exp` against real time).
    return mint_client_token(account, user, secret=SIGNING_SECRET, now=datetime.now(UTC), ttl=ttl)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


@pytest.fixture
async def anonymous(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same running app that sends no Authorization header."""
    transport = httpx.ASGITransport(app=client.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://nudge.test") as http:
        yield http


async def fill_seats(client: httpx.AsyncClient, account: str) -> None:
    answer = await client.post(
        "/v1/usage",
        json={
            "events": [
                {"id": "seats", "account_id": account, "metric": "seats", "value": 3, "op": "set"}
            ]
        },
    )
    assert answer.status_code == 202


async def prompt_id(client: httpx.AsyncClient, account: str, user: str | None = None) -> str:
    params = {"account_id": account} | ({"user_id": user} if user else {})
    prompts = (await client.get("/v1/prompts", params=params)).json()["prompts"]
    assert prompts, f"no prompt for {account}"
    return str(prompts[0]["id"])


def assert_error(answer: httpx.Response, status: int, code: str) -> None:
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert isinstance(error["details"], list)


async def test_no_authorization_is_401_with_www_authenticate(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/v1/accounts/acme")

    assert_error(answer, 401, "unauthorized")
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in answer.json()["error"]["message"]


@pytest.mark.parametrize(
    "header",
    [f"Basic {API_KEY}", "Bearer", "Bearer ", API_KEY],
    ids=["basic scheme", "bearer without token", "bearer with blank token", "no scheme"],
)
async def test_malformed_authorization_header_is_401(
    anonymous: httpx.AsyncClient, header: str
) -> None:
    answer = await anonymous.get("/v1/accounts/acme", headers={"Authorization": header})

    assert_error(answer, 401, "unauthorized")


async def test_wrong_secret_key_is_401(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/v1/accounts/acme", headers=bearer(API_KEY + "x"))

    assert_error(answer, 401, "unauthorized")
    assert answer.headers["WWW-Authenticate"] == "Bearer"
    assert API_KEY not in answer.text


async def test_secret_key_reaches_secret_routes(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/v1/accounts/acme", headers=bearer(API_KEY))

    assert answer.status_code == 200


async def test_client_token_gets_the_prompts_of_its_own_account(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await fill_seats(client, "acme")

    mine = await anonymous.get("/v1/prompts", headers=bearer(token_for("acme", "ana")))
    explicit = await anonymous.get(
        "/v1/prompts",
        params={"account_id": "acme", "user_id": "ana"},
        headers=bearer(token_for("acme", "ana")),
    )
    other = await anonymous.get("/v1/prompts", headers=bearer(token_for("globex", "ana")))

    assert mine.status_code == 200
    assert [p["trigger"] for p in mine.json()["prompts"]] == ["seats-full"]
    assert [p["trigger"] for p in explicit.json()["prompts"]] == ["seats-full"]
    assert other.json()["prompts"] == []


async def test_client_token_reports_events_on_its_own_prompts(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await fill_seats(client, "acme")
    token = token_for("acme", "ana")
    prompts = (await anonymous.get("/v1/prompts", headers=bearer(token))).json()["prompts"]

    answer = await anonymous.post(
        f"/v1/prompts/{prompts[0]['id']}/events", json={"type": "dismissed"}, headers=bearer(token)
    )

    assert answer.status_code == 202
    assert (await anonymous.get("/v1/prompts", headers=bearer(token))).json()["prompts"] == []


async def test_client_token_of_one_account_asking_for_another_is_403(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await fill_seats(client, "globex")

    answer = await anonymous.get(
        "/v1/prompts", params={"account_id": "globex"}, headers=bearer(token_for("acme", "ana"))
    )

    assert_error(answer, 403, "forbidden")
    assert "prompts" not in answer.json()


@pytest.mark.parametrize(("sub", "asked"), [("ana", "bob"), (None, "bob")])
async def test_client_token_asking_for_another_user_is_403(
    anonymous: httpx.AsyncClient, sub: str | None, asked: str
) -> None:
    answer = await anonymous.get(
        "/v1/prompts", params={"user_id": asked}, headers=bearer(token_for("acme", sub))
    )

    assert_error(answer, 403, "forbidden")


async def test_client_token_reporting_on_another_accounts_prompt_is_403(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await fill_seats(client, "globex")
    foreign = await prompt_id(client, "globex", "ana")

    answer = await anonymous.post(
        f"/v1/prompts/{foreign}/events",
        json={"type": "dismissed"},
        headers=bearer(token_for("acme", "ana")),
    )

    assert_error(answer, 403, "forbidden")
    # The foreign prompt was not dismissed.
    triggers = await client.get("/v1/prompts", params={"account_id": "globex", "user_id": "ana"})
    assert [p["trigger"] for p in triggers.json()["prompts"]] == ["seats-full"]


async def test_client_token_reporting_on_another_users_prompt_is_403(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await fill_seats(client, "acme")
    bobs = await prompt_id(client, "acme", "bob")

    answer = await anonymous.post(
        f"/v1/prompts/{bobs}/events",
        json={"type": "dismissed"},
        headers=bearer(token_for("acme", "ana")),
    )

    assert_error(answer, 403, "forbidden")
    still = await client.get("/v1/prompts", params={"account_id": "acme", "user_id": "bob"})
    assert [p["trigger"] for p in still.json()["prompts"]] == ["seats-full"]


SECRET_ONLY = [
    ("PUT", "/v1/accounts/acme", {"plan": "team"}),
    ("GET", "/v1/accounts/acme", None),
    ("POST", "/v1/usage", {"events": [{"id": "e", "account_id": "acme", "metric": "api_calls"}]}),
    ("GET", "/v1/accounts/acme/explain", None),
    ("GET", "/v1/signals", None),
    ("GET", "/v1/rules", None),
    ("POST", "/v1/rules/reload", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), SECRET_ONLY, ids=[f"{m} {p}" for m, p, _ in SECRET_ONLY]
)
async def test_client_token_on_a_secret_only_route_is_403(
    client: httpx.AsyncClient,
    anonymous: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    answer = await anonymous.request(
        method, path, json=body, headers=bearer(token_for("acme", "ana"))
    )

    assert_error(answer, 403, "forbidden")
    account = (await client.get("/v1/accounts/acme")).json()
    assert account["plan"] == "free"
    assert account["created_at"] is None
    assert account["usage"]["api_calls"]["value"] == 0


def _unsigned(claims: dict[str, Any]) -> str:
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


def _future() -> int:
    return int((datetime.now(UTC) + timedelta(minutes=15)).timestamp())


BAD_TOKENS = {
    "expired": lambda: token_for("acme", "ana", ttl=timedelta(seconds=-60)),
    "without exp": lambda: jwt.encode(
        {"account_id": "acme", "sub": "ana"}, SIGNING_SECRET, "HS256"
    ),
    "without account_id": lambda: jwt.encode(
        {"sub": "ana", "exp": _future()}, SIGNING_SECRET, "HS256"
    ),
    "invalid account_id": lambda: jwt.encode(
        {"account_id": "x{y}", "exp": _future()}, SIGNING_SECRET, "HS256"
    ),
    "wrong signature": lambda: jwt.encode(
        {"account_id": "acme", "exp": _future()},
        "another-secret-of-at-least-32-characters!",
        "HS256",
    ),
    "alg none": lambda: _unsigned({"account_id": "acme", "sub": "ana", "exp": _future()}),
    "HS512": lambda: jwt.encode({"account_id": "acme", "exp": _future()}, SIGNING_SECRET, "HS512"),
    "garbage": lambda: "not-a-token",
    "three garbage parts": lambda: "abc.def.ghi",
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # the HS512 case
async def test_bad_client_token_is_401(anonymous: httpx.AsyncClient, make_token: Any) -> None:
    answer = await anonymous.get("/v1/prompts", headers=bearer(make_token()))

    assert_error(answer, 401, "unauthorized")
    assert answer.headers["WWW-Authenticate"] == "Bearer"


async def test_bad_client_token_cannot_report_prompt_events(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await fill_seats(client, "acme")
    mine = await prompt_id(client, "acme", "ana")
    expired = token_for("acme", "ana", ttl=timedelta(seconds=-60))

    answer = await anonymous.post(
        f"/v1/prompts/{mine}/events", json={"type": "dismissed"}, headers=bearer(expired)
    )

    assert_error(answer, 401, "unauthorized")
    assert await prompt_id(client, "acme", "ana")


async def test_secret_key_needs_an_account_id_for_prompts(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/prompts")

    assert_error(answer, 422, "invalid_request")
    assert [d["field"] for d in answer.json()["error"]["details"]] == ["account_id"]


async def test_anyone_may_call_health_and_metrics(anonymous: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/readyz", "/metrics"):
        answer = await anonymous.get(path)
        assert answer.status_code == 200, path
