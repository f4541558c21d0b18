"""Errors answer `{"error": {"code", "message", "details"}}`, never a 500; OpenAPI is accurate."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest


def error_of(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    for detail in error["details"]:
        assert detail["message"]
    return error


async def api_calls_of(client: httpx.AsyncClient, account: str) -> float:
    answer = await client.get(f"/v1/accounts/{account}")
    value: float = answer.json()["usage"]["api_calls"]["value"]
    return value


@pytest.mark.parametrize("path", ["/nope", "/v1/nope", "/v1/accounts", "/v1/usage/extra"])
async def test_unknown_route_is_404_with_the_error_shape(
    client: httpx.AsyncClient, path: str
) -> None:
    error_of(await client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/accounts/acme", "GET, PUT"),
        ("POST", "/healthz", "GET, HEAD"),
        ("PUT", "/readyz", "GET, HEAD"),
        ("GET", "/v1/usage", "POST"),
        ("POST", "/v1/rules", "GET"),
        ("GET", "/v1/rules/reload", "POST"),
        ("POST", "/v1/prompts", "GET, HEAD"),
        ("GET", "/v1/prompts/some-id/events", "POST"),
        ("DELETE", "/v1/accounts/acme/explain", "GET"),
    ],
)
async def test_wrong_method_is_405_listing_every_method_of_the_path(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    answer = await client.request(method, path)

    error = error_of(answer, 405, "method_not_allowed")
    assert answer.headers["Allow"] == allowed
    assert error["message"] == f"{method} {path} is not allowed; this path takes {allowed}"


@pytest.mark.parametrize(
    ("path", "allowed"), [("/healthz", "GET, HEAD"), ("/v1/accounts/a", "GET, PUT")]
)
async def test_every_method_the_allow_header_names_is_answered_without_405(
    client: httpx.AsyncClient, path: str, allowed: str
) -> None:
    for method in allowed.split(", "):
        assert (await client.request(method, path)).status_code != 405, method


async def test_malformed_json_is_422_naming_the_problem_and_applies_nothing(
    client: httpx.AsyncClient,
) -> None:
    body = '{"events": [{"id": "e1", "account_id": "acme", "metric": "api_calls"},'

    answer = await client.post(
        "/v1/usage", content=body, headers={"Content-Type": "application/json"}
    )

    error = error_of(answer, 422, "invalid_request")
    assert "not valid JSON" in error["message"]
    assert error["details"][0]["field"] is None
    assert await api_calls_of(client, "acme") == 0


@pytest.mark.parametrize(
    "body",
    [b"", b"[1, 2]", b'"events"', b"null", b'{"events": {"id": "e1"}}', b"{}"],
    ids=["empty", "array", "string", "null", "events not a list", "no events"],
)
async def test_body_of_the_wrong_shape_is_422_not_500(
    client: httpx.AsyncClient, body: bytes
) -> None:
    answer = await client.post(
        "/v1/usage", content=body, headers={"Content-Type": "application/json"}
    )

    error_of(answer, 422, "invalid_request")


async def test_body_sent_as_text_is_a_4xx_error(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/v1/usage",
        content=json.dumps({"events": [{"id": "e1", "account_id": "acme", "metric": "api_calls"}]}),
        headers={"Content-Type": "text/plain"},
    )

    assert 400 <= answer.status_code < 500
    error_of(answer, answer.status_code, answer.json()["error"]["code"])
    assert await api_calls_of(client, "acme") == 0


async def test_malformed_account_body_is_422(client: httpx.AsyncClient) -> None:
    answer = await client.put(
        "/v1/accounts/acme", content=b"{plan: team}", headers={"Content-Type": "application/json"}
    )

    error_of(answer, 422, "invalid_request")
    assert (await client.get("/v1/accounts/acme")).json()["created_at"] is None


async def test_forged_prompt_id_is_404_with_the_error_shape(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/prompts/forged-id/events", json={"type": "dismissed"})

    error = error_of(answer, 404, "not_found")
    assert "GET /v1/prompts" in error["message"]


async def test_unknown_prompt_event_type_is_422_naming_the_field(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/prompts/anything/events", json={"type": "liked"})

    error = error_of(answer, 422, "invalid_request")
    assert [d["field"] for d in error["details"]] == ["type"]


async def test_invalid_query_parameter_is_422_naming_it(client: httpx.AsyncClient) -> None:
    answer = await client.get("/v1/prompts", params={"account_id": "acme", "user_id": "a b"})

    error = error_of(answer, 422, "invalid_request")
    assert [d["field"] for d in error["details"]] == ["user_id"]


API_TABLE = {
    "/v1/accounts/{account_id}": {"put", "get"},
    "/v1/usage": {"post"},
    "/v1/prompts": {"get"},
    "/v1/prompts/{prompt_id}/events": {"post"},
    "/v1/rules": {"get"},
    "/v1/rules/reload": {"post"},
    "/v1/signals": {"get"},
    "/v1/accounts/{account_id}/explain": {"get"},
    "/healthz": {"get"},
    "/readyz": {"get"},
    "/metrics": {"get"},
}


async def test_openapi_document_lists_every_route_of_the_api(client: httpx.AsyncClient) -> None:
    answer = await client.get("/openapi.json")

    assert answer.status_code == 200
    document = json.loads(answer.content)
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path, methods in API_TABLE.items():
        assert path in paths, path
        assert methods <= set(paths[path]), (path, set(paths[path]))
    assert set(paths) == set(API_TABLE)


async def test_openapi_document_shows_the_usage_contract(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    post_usage = document["paths"]["/v1/usage"]["post"]
    assert {"202", "413", "422", "503"} <= set(post_usage["responses"])
    event = document["components"]["schemas"]["UsageEventIn"]
    assert set(event["required"]) == {"id", "account_id", "metric"}
    assert event["properties"]["op"]["default"] == "incr"
    assert event["properties"]["value"]["default"] == 1
    assert (
        document["components"]["schemas"]["UsageBatchIn"]["properties"]["events"]["maxItems"]
        == 1000
    )
    assert "ErrorOut" in document["components"]["schemas"]


async def test_a_missing_body_names_the_body(client: httpx.AsyncClient) -> None:
    answer = await client.put("/v1/accounts/acme")

    assert answer.status_code == 422
    detail = answer.json()["error"]["details"][0]
    assert detail["field"] == "body"
    assert "a JSON object body is required" in detail["message"]


async def test_an_unparseable_body_is_400_with_a_message_a_person_can_act_on(
    client: httpx.AsyncClient,
) -> None:
    too_deep = '{"events": ' + "[" * 100_000 + "]" * 100_000 + "}"
    answer = await client.post(
        "/v1/usage", content=too_deep, headers={"Content-Type": "application/json"}
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_request"
    assert "could not be parsed as JSON" in answer.json()["error"]["message"]


async def test_health_checks_answer_head_requests(client: httpx.AsyncClient) -> None:
    assert (await client.head("/healthz")).status_code == 200
    assert (await client.head("/readyz")).status_code == 200
