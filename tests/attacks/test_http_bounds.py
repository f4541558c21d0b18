"""What one connection can cost `nudge serve` is bounded: megabytes of headers are refused
with 431, a request that stops half way through its headers or its body is answered
408 and closed, an idle connection is closed, and the service goes on serving."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from app.server_protocol import MAX_HEADER_BYTES
from tests.conftest import API_KEY
from tests.support.service import Service, StartService

TIMEOUT = 1  # NUDGE_HEADER_TIMEOUT_SECONDS and NUDGE_BODY_TIMEOUT_SECONDS, shortened for CI


@pytest.fixture
def service(redis_url: str, start_service: StartService) -> Service:
    return start_service(
        redis_url=redis_url,
        NUDGE_HEADER_TIMEOUT_SECONDS=str(TIMEOUT),
        NUDGE_BODY_TIMEOUT_SECONDS=str(TIMEOUT),
    )


def connect(service: Service) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=TIMEOUT + 5)
    return sock


def answer_of(sock: socket.socket, *, since: float | None = None) -> tuple[bytes, float]:
    """Everything the service sends until it closes, and the seconds from `since` (the
    moment before connecting, where the service's timers start) until it closed."""
    started = time.monotonic() if since is None else since
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received, time.monotonic() - started


def wait_until_logged(service: Service, text: str, *, within: float = 5) -> None:
    """Wait until the service's log has `text` (a line is written a moment after the event)."""
    deadline = time.monotonic() + within
    while text not in service.log:
        assert time.monotonic() < deadline, f"{text!r} not logged within {within} s:\n{service.log}"
        time.sleep(0.05)


def still_serving(service: Service) -> bool:
    return httpx.get(f"{service.url}/healthz", timeout=5).status_code == 200


def test_megabytes_of_headers_are_refused_with_431_and_the_connection_closed(
    service: Service,
) -> None:
    with connect(service) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: nudge\r\n")
        sent = 0
        try:
            while sent < 4 * 1024 * 1024:
                sock.sendall(b"X-Padding: " + b"a" * 8000 + b"\r\n")
                sent += 8013
        except (BrokenPipeError, ConnectionResetError):
            pass  # the service closed the connection while we were still sending
        try:
            answer, _ = answer_of(sock)
        except ConnectionResetError:
            answer = b""

    # What was sent is no measure of what the service read: the kernel buffers megabytes
    # for a busy service. The service says where it stopped reading; it says it in its log.
    refused = f"refused: request headers over {MAX_HEADER_BYTES // 1024} KiB"
    wait_until_logged(service, refused)
    # Refused at the size limit, not at the header timeout (a 408 after reading it all);
    # closing with headers still unread resets the connection, which may lose the answer.
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
    assert still_serving(service)


def test_headers_just_under_the_limit_are_served(service: Service) -> None:
    answer = httpx.get(f"{service.url}/healthz", headers={"X-Padding": "a" * 30_000}, timeout=5)

    assert answer.status_code == 200


def test_a_request_that_stalls_half_way_through_its_headers_gets_408(service: Service) -> None:
    opened = time.monotonic()  # timed from here: the service's clock starts on connecting
    with connect(service) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: nudge\r\n")
        answer, took = answer_of(sock, since=opened)

    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert b"request headers not complete within 1 s" in answer
    assert TIMEOUT - 0.2 < took < TIMEOUT + 2
    assert still_serving(service)


def test_a_connection_that_sends_nothing_is_closed_quietly(service: Service) -> None:
    opened = time.monotonic()
    with connect(service) as sock:
        answer, took = answer_of(sock, since=opened)

    assert answer == b""
    assert took < TIMEOUT + 2


def test_a_body_that_stalls_half_way_gets_408_and_nothing_is_applied(service: Service) -> None:
    body = b'{"events": [{"id": "e1", "account_id": "acme", "metric": "api_calls"}]}'
    opened = time.monotonic()
    with connect(service) as sock:
        sock.sendall(
            b"POST /v1/usage HTTP/1.1\r\nHost: nudge\r\n"
            + f"Authorization: Bearer {API_KEY}\r\n".encode()
            + b"Content-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body[:20]
        )
        answer, took = answer_of(sock, since=opened)

    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in head.lower()
    assert b'"code":"request_timeout"' in payload
    assert TIMEOUT - 0.2 < took < TIMEOUT + 2
    assert service.usage("acme", "api_calls") == 0


def test_a_slow_but_steady_request_within_the_time_is_served(service: Service) -> None:
    with connect(service) as sock:
        for part in (
            b"GET /healthz HTTP/1.1\r\n",
            b"Host: nudge\r\n",
            b"Connection: close\r\n\r\n",
        ):
            sock.sendall(part)
            time.sleep(TIMEOUT / 5)
        answer, _ = answer_of(sock)

    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
