"""Text that is not valid Unicode (a lone surrogate, bytes that are not UTF-8) anywhere in a
request, in its body, query or path, is a 422 that names the field, and nothing of the
request is applied: not the other accounts' events of a batch, not the plan."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.usage import usage_of

JSON = {"Content-Type": "application/json"}
LONE = "\\ud800"  # as written in JSON text: an escape Python's parser turns into a lone surrogate


async def post_raw(client: httpx.AsyncClient, path: str, body: str | bytes) -> httpx.Response:
    return await client.post(path, content=body, headers=JSON)


async def put_raw(client: httpx.AsyncClient, path: str, body: str | bytes) -> httpx.Response:
    return await client.put(path, content=body, headers=JSON)


def refused(answer: httpx.Response, field: str) -> dict[str, Any]:
    assert answer.status_code == 422, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert [detail["field"] for detail in error["details"]] == [field]
    assert field in error["message"]
    assert "not valid" in error["message"]
    return error


@pytest.mark.parametrize("field", ["id", "account_id", "metric"])
async def test_a_lone_surrogate_in_a_usage_event_refuses_the_whole_batch(
    client: httpx.AsyncClient, field: str
) -> None:
    bad = {"id": "e2", "account_id": "acme", "metric": "api_calls"}
    written = ", ".join(
        f'"{name}": "{LONE if name == field else value}"' for name, value in bad.items()
    )
    body = (
        '{"events": [{"id": "e1", "account_id": "beta", "metric": "api_calls", "value": 5}, '
        f'{{{written}, "value": 1}}]}}'
    )

    answer = await post_raw(client, "/v1/usage", body)

    error = refused(answer, f"events[1].{field}")
    assert error["details"][0]["index"] == 1
    assert "lone surrogate \\ud800" in error["details"][0]["message"]
    assert "nothing was applied" in error["message"]
    assert (await usage_of(client, "beta"))["api_calls"] == 0
    assert (await usage_of(client, "acme"))["api_calls"] == 0


async def test_the_same_batch_with_the_text_fixed_is_accepted(client: httpx.AsyncClient) -> None:
    body = '{"events": [{"id": "%s", "account_id": "acme", "metric": "api_calls"}]}'
    assert (await post_raw(client, "/v1/usage", body % LONE)).status_code == 422
    assert (await post_raw(client, "/v1/usage", body % "e1")).json() == {
        "accepted": 1,
        "duplicates": 0,
    }


async def test_a_lone_surrogate_in_a_plan_name_leaves_the_account_as_it_was(
    client: httpx.AsyncClient,
) -> None:
    await client.put("/v1/accounts/acme", json={"plan": "team"})

    refused(await put_raw(client, "/v1/accounts/acme", f'{{"plan": "te{LONE}am"}}'), "plan")

    assert (await client.get("/v1/accounts/acme")).json()["plan"] == "team"


@pytest.mark.parametrize(
    ("attributes", "field"),
    [
        (f'{{"industry": "re{LONE}tail"}}', "attributes.industry"),
        (f'{{"in{LONE}dustry": "retail"}}', "attributes"),
        (f'{{"tags": ["ok", "{LONE}"]}}', "attributes.tags[1]"),
        (f'{{"deep": {{"er": {{"{LONE}": 1}}}}}}', "attributes.deep.er"),
    ],
)
async def test_a_lone_surrogate_in_attributes_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, attributes: str, field: str
) -> None:
    await client.put("/v1/accounts/acme", json={"plan": "free", "attributes": {"industry": "x"}})

    answer = await put_raw(
        client, "/v1/accounts/acme", f'{{"plan": "team", "attributes": {attributes}}}'
    )

    refused(answer, field)
    account = (await client.get("/v1/accounts/acme")).json()
    assert (account["plan"], account["attributes"]) == ("free", {"industry": "x"})


async def test_a_surrogate_pair_is_valid_text_and_round_trips(client: httpx.AsyncClient) -> None:
    answer = await put_raw(
        client, "/v1/accounts/acme", '{"attributes": {"mood": "\\ud83d\\ude00"}}'
    )

    assert answer.status_code == 200, answer.text
    assert (await client.get("/v1/accounts/acme")).json()["attributes"] == {"mood": "\U0001f600"}


async def test_bytes_that_are_not_utf8_in_a_body_are_refused_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    body = b'{"events": [{"id": "e\xff1", "account_id": "acme", "metric": "api_calls"}]}'

    error = refused(await post_raw(client, "/v1/usage", body), "events[0].id")

    assert "byte 0xff" in error["details"][0]["message"]
    assert (await usage_of(client, "acme"))["api_calls"] == 0


async def test_a_lone_surrogate_in_a_prompt_event_body_is_refused(
    client: httpx.AsyncClient,
) -> None:
    answer = await post_raw(client, "/v1/prompts/anything/events", f'{{"type": "{LONE}"}}')

    refused(answer, "type")


async def test_a_query_value_that_is_not_utf8_is_refused_naming_the_parameter(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/v1/prompts?account_id=acme&placement=%ED%A0%80")

    error = refused(answer, "placement")
    assert "nothing was applied" not in error["message"]


async def test_a_path_that_is_not_utf8_is_refused(client: httpx.AsyncClient) -> None:
    refused(await client.get("/v1/accounts/ac%FFme"), "path")


async def test_percent_encoded_utf8_in_a_query_is_read_as_usual(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/v1/prompts", params={"account_id": "a@b", "placement": "mémbers"})

    assert answer.status_code == 200, answer.text
