"""NudgeClient's calls: accounts and prompt events raise, get_prompts fails open, tokens."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import jwt
import pytest
from nudge_sdk import (
    Account,
    Cta,
    MetricUsage,
    NudgeAPIError,
    NudgeClient,
    NudgeConnectionError,
    NudgeError,
    Prompt,
    RetryPolicy,
)

from tests.conftest import SIGNING_SECRET
from tests.support.redis_server import RedisServer
from tests.support.sdk_timing import PROMPT_TIMEOUT, SLACK
from tests.support.service import Service


def _full_team(client: NudgeClient) -> None:
    client.set_plan("acme", "free")
    client.track("acme", "seats", 3, op="set")
    assert client.flush(timeout=5)


def test_set_plan_and_get_account_answer_typed_accounts(nudge: Callable[..., NudgeClient]) -> None:
    client = nudge()
    account = client.set_plan("acme", "free", {"industry": "retail"})

    assert isinstance(account, Account)
    assert (account.account_id, account.plan, account.attributes) == (
        "acme",
        "free",
        {"industry": "retail"},
    )
    assert account.usage["seats"] == MetricUsage(value=0, limit=3)
    assert account.created_at is not None and account.created_at.tzinfo is not None
    client.track("acme", "api_calls", 42)
    assert client.flush(timeout=5)
    api_calls = client.get_account("acme").usage["api_calls"]
    assert (api_calls.value, api_calls.limit, api_calls.window) == (42, 10000, "month")
    assert api_calls.resets_at is not None and api_calls.resets_at > datetime.now(UTC)
    assert client.set_plan("acme", "business").usage["seats"].limit is None


def test_set_plan_with_an_unknown_plan_raises_the_services_422(
    nudge: Callable[..., NudgeClient],
) -> None:
    client = nudge(retry=RetryPolicy(backoff_base=5.0))  # a retry would wait 2.5 s or more
    started = time.monotonic()
    with pytest.raises(NudgeAPIError) as raised:
        client.set_plan("acme", "gold")

    assert time.monotonic() - started < 2.0  # answered, not retried after a backoff
    error = raised.value
    assert (error.status, error.code) == (422, "invalid_request")
    assert "gold" in error.message and "business, free, team" in error.message
    assert error.details[0]["field"] == "plan"


def test_calls_that_raise_raise_a_connection_error_when_the_service_is_down(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(retry=RetryPolicy(backoff_base=0.01, backoff_max=0.02, max_retries=2))
    service.stop()
    with pytest.raises(NudgeConnectionError) as raised:
        client.get_account("acme")
    assert raised.value.request_sent is False
    with pytest.raises(NudgeConnectionError):
        client.set_plan("acme", "team")
    with pytest.raises(NudgeConnectionError):
        client.report_event("some-prompt-id", "shown")


def test_get_prompts_answers_typed_prompts_and_report_event_dismisses_one(
    nudge: Callable[..., NudgeClient],
) -> None:
    client = nudge()
    _full_team(client)

    [prompt] = client.get_prompts("acme", user_id="ana")
    assert isinstance(prompt, Prompt)
    assert (prompt.trigger, prompt.style, prompt.title) == (
        "seats-full",
        "modal",
        "Your team is full",
    )
    assert (prompt.usage, prompt.limit, prompt.plan, prompt.upgrade_plan) == (3, 3, "free", "team")
    assert prompt.cta == Cta(label="Upgrade", url="/billing/upgrade?plan=team")
    assert client.get_prompts("acme", user_id="ana", placement="billing") == [prompt]

    client.report_event(prompt.id, "dismissed")
    assert client.get_prompts("acme", user_id="ana") == []
    assert [p.trigger for p in client.get_prompts("acme", user_id="bo")] == ["seats-full"]
    with pytest.raises(NudgeAPIError) as raised:
        client.report_event("not-a-prompt-id", "clicked")
    assert (raised.value.status, raised.value.code) == (404, "not_found")
    with pytest.raises(ValueError, match="type must be one of shown, clicked"):
        client.report_event(prompt.id, "closed")  # type: ignore[arg-type]


def test_get_prompts_fails_open_within_its_timeout_when_the_service_is_frozen(
    service: Service, nudge: Callable[..., NudgeClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = nudge(prompt_timeout=PROMPT_TIMEOUT)
    _full_team(client)
    assert client.get_prompts("acme")  # a pooled connection, then the service freezes
    service.freeze()
    try:
        for _ in range(2):  # on the pooled connection, then on a new one
            started = time.monotonic()
            assert client.get_prompts("acme") == []
            assert time.monotonic() - started < PROMPT_TIMEOUT + SLACK
    finally:
        service.thaw()
    assert client.stats.prompt_failures == 2
    assert f"no answer within prompt_timeout ({PROMPT_TIMEOUT} s)" in caplog.text


def test_get_prompts_fails_open_at_once_when_the_service_is_stopped(
    service: Service, nudge: Callable[..., NudgeClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = nudge(prompt_timeout=PROMPT_TIMEOUT)
    service.stop()
    started = time.monotonic()
    assert client.get_prompts("acme", user_id="ana") == []
    assert time.monotonic() - started < PROMPT_TIMEOUT
    warnings = [r for r in caplog.records if r.name == "nudge_sdk"]
    assert [r.levelno for r in warnings] == [logging.WARNING]
    assert "get_prompts answered [] (fail open)" in warnings[0].getMessage()


def test_get_prompts_answers_nothing_when_the_service_is_degraded(
    nudge: Callable[..., NudgeClient], redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    client = nudge(prompt_timeout=PROMPT_TIMEOUT)
    _full_team(client)
    redis_server.pause()  # the service answers within its Redis budget, degraded
    try:
        started = time.monotonic()
        assert client.get_prompts("acme") == []
        assert time.monotonic() - started < PROMPT_TIMEOUT + SLACK
    finally:
        redis_server.resume()
    assert "degraded" in caplog.text
    assert client.get_prompts("acme")  # and prompts again once Redis answers


def test_get_prompts_fails_open_on_a_refused_request(
    nudge: Callable[..., NudgeClient], caplog: pytest.LogCaptureFixture
) -> None:
    assert nudge().get_prompts("ac{me}") == []
    assert nudge(api_key="not-a-key").get_prompts("acme") == []
    assert "422 invalid_request" in caplog.text
    assert "401 unauthorized" in caplog.text


def test_a_minted_client_token_gets_its_accounts_prompts_from_the_service(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge()
    _full_team(client)
    token = client.mint_client_token("acme", "ana", ttl=timedelta(minutes=5))

    claims = jwt.decode(token, SIGNING_SECRET, algorithms=["HS256"])
    assert (claims["account_id"], claims["sub"]) == ("acme", "ana")
    assert abs(claims["exp"] - (time.time() + 300)) < 5
    bearer = {"Authorization": f"Bearer {token}"}
    answer = httpx.get(f"{service.url}/v1/prompts", headers=bearer, timeout=5)
    assert answer.status_code == 200
    [prompt] = answer.json()["prompts"]
    assert prompt["trigger"] == "seats-full"
    dismissed = httpx.post(
        f"{service.url}/v1/prompts/{prompt['id']}/events",
        headers=bearer,
        json={"type": "dismissed"},
        timeout=5,
    )
    assert dismissed.status_code == 202
    assert client.get_prompts("acme", user_id="ana") == []
    other = httpx.get(
        f"{service.url}/v1/prompts", params={"account_id": "globex"}, headers=bearer, timeout=5
    )
    assert other.status_code == 403


def test_minting_needs_the_signing_secret_and_a_valid_id(nudge: Callable[..., NudgeClient]) -> None:
    with pytest.raises(NudgeError, match="signing_secret"):
        nudge(signing_secret=None).mint_client_token("acme")
    client = nudge()
    with pytest.raises(ValueError, match="user_id must be"):
        client.mint_client_token("acme", "ana smith")
    with pytest.raises(ValueError, match="ttl must be"):
        client.mint_client_token("acme", ttl=timedelta(0))
    anonymous = jwt.decode(client.mint_client_token("acme"), SIGNING_SECRET, algorithms=["HS256"])
    assert "sub" not in anonymous
    other = "another-signing-secret-0123456789-abcdefgh"
    given = nudge(signing_secret=None).mint_client_token("acme", signing_secret=other)
    assert jwt.decode(given, other, algorithms=["HS256"])["account_id"] == "acme"


class _SlowServer:
    """A loopback HTTP server that sends a fixed head, then its body a byte at a time."""

    def __init__(self, head: bytes, body: bytes, *, byte_every: float) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._answer = (head, body, byte_every)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        head, body, byte_every = self._answer
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with connection:
                connection.recv(65536)
                try:
                    connection.sendall(head)
                    for byte in body:
                        connection.sendall(bytes([byte]))
                        time.sleep(byte_every)
                except OSError:
                    continue

    def close(self) -> None:
        self._listener.close()


def test_get_prompts_cuts_off_an_answer_that_trickles_in(
    nudge: Callable[..., NudgeClient],
) -> None:
    body = b'{"prompts": [], "degraded": false}'
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    head += b"Content-Length: %d\r\n\r\n" % len(body)
    slow = _SlowServer(head, body, byte_every=0.2)  # 7 s for the whole answer
    try:
        client = nudge(slow.url, prompt_timeout=PROMPT_TIMEOUT)
        started = time.monotonic()
        assert client.get_prompts("acme") == []
        assert time.monotonic() - started < PROMPT_TIMEOUT + SLACK
    finally:
        slow.close()


def test_a_long_retry_after_is_not_waited_for_by_a_call_the_caller_waits_on(
    nudge: Callable[..., NudgeClient],
) -> None:
    body = b'{"error": {"code": "store_unavailable", "message": "down", "details": []}}'
    head = b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 3600\r\n"
    head += b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
    busy = _SlowServer(head, body, byte_every=0)
    try:
        client = nudge(busy.url, timeout=2.0)
        started = time.monotonic()
        with pytest.raises(NudgeAPIError) as raised:
            client.get_account("acme")
        assert time.monotonic() - started < 2.0
        assert (raised.value.status, raised.value.retry_after) == (503, 3600)
    finally:
        busy.close()
