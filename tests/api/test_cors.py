"""CORS: a frontend on another origin may call the prompt routes, only from the origins
of NUDGE_CORS_ORIGINS; without it, no CORS header is ever sent."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import load_settings
from tests.conftest import NudgeFactory

APP = "https://app.example.com"
PREFLIGHT = {
    "Origin": APP,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


async def test_a_preflight_from_a_listed_origin_is_allowed(nudge_app: NudgeFactory) -> None:
    async with nudge_app(cors_origins=f"{APP}, http://localhost:5173") as client:
        answer = await client.options("/v1/prompts/some-id/events", headers=PREFLIGHT)

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP
    assert "POST" in answer.headers["access-control-allow-methods"]
    allowed_headers = answer.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers and "content-type" in allowed_headers
    assert answer.headers["access-control-max-age"] == "600"


async def test_a_listed_origin_can_read_the_prompts_answer(nudge_app: NudgeFactory) -> None:
    async with nudge_app(cors_origins=APP) as client:
        answer = await client.get(
            "/v1/prompts", params={"account_id": "acme"}, headers={"Origin": APP}
        )

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == APP
    assert "prompts" in answer.json()


async def test_another_origin_gets_no_cors_header(nudge_app: NudgeFactory) -> None:
    async with nudge_app(cors_origins=APP) as client:
        preflight = await client.options(
            "/v1/prompts", headers={**PREFLIGHT, "Origin": "https://evil.example"}
        )
        answer = await client.get(
            "/v1/prompts",
            params={"account_id": "acme"},
            headers={"Origin": "https://evil.example"},
        )

    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in answer.headers


async def test_without_the_setting_no_cors_header_is_sent(nudge_app: NudgeFactory) -> None:
    async with nudge_app() as client:
        answer = await client.get(
            "/v1/prompts", params={"account_id": "acme"}, headers={"Origin": APP}
        )

    assert answer.status_code == 200
    assert "access-control-allow-origin" not in answer.headers


@pytest.mark.parametrize("bad", ["app.example.com", "https://app.example.com/path", "ftp://x"])
def test_an_origin_that_is_not_one_is_a_clear_settings_error(bad: str) -> None:
    with pytest.raises(ValidationError) as raised:
        load_settings(cors_origins=bad)

    assert f'"{bad}" is not an origin; write scheme://host[:port]' in str(raised.value)
