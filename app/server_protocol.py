"""uvicorn's httptools protocol with the bounds it lacks: request headers may take at most
MAX_HEADER_BYTES (431 beyond) and must be complete within NUDGE_HEADER_TIMEOUT_SECONDS of
the connection opening or of the previous answer (408, or a quiet close if nothing came).

uvicorn bounds idle keep-alive connections and, with h11 only, header size; with
httptools (the fast parser `nudge serve` runs) it keeps reading headers of any size and
waits forever for a request that stops half way. `nudge serve` runs this protocol; the
body's time is bounded by the request guard (app/api/request_guard.py). What a reverse
proxy in front should bound as well is in docs/operations.md.
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 32 * 1024

log = logging.getLogger("uvicorn.error")


def bounded_protocol(*, header_timeout_seconds: float) -> type[HttpToolsProtocol]:
    """The protocol class for uvicorn's `http` setting, with the given header timeout."""
    return type(
        "BoundedHttpToolsProtocol",
        (BoundedHttpToolsProtocol,),
        {"header_timeout_seconds": header_timeout_seconds},
    )


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    max_header_bytes = MAX_HEADER_BYTES
    header_timeout_seconds = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading_headers = False
        self._header_bytes = 0
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        reading = self._reading_headers
        super().data_received(data)
        if not reading or not self._reading_headers or self.transport.is_closing():
            return
        self._header_bytes += len(data)
        if self._header_bytes > self.max_header_bytes:
            self._refuse(431, f"request headers over {self.max_header_bytes // 1024} KiB")

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._stop_header_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and not self.pipeline:
            self._await_headers()

    def _await_headers(self) -> None:
        self._reading_headers = True
        self._header_bytes = 0
        self._stop_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout_seconds, self._headers_late)

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or not self._reading_headers:
            return
        if self._header_bytes == 0:
            self.transport.close()  # nothing asked: an idle connection, closed quietly
            return
        self._refuse(408, f"request headers not complete within {self.header_timeout_seconds:g} s")

    def _refuse(self, status: int, why: str) -> None:
        self._reading_headers = False
        self._stop_header_timer()
        client = f"{self.client[0]}:{self.client[1]} - " if self.client else ""
        log.warning("%srefused: %s", client, why)
        body = f"{why}\n".encode()
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            f"content-type: text/plain; charset=utf-8\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n"
        ).encode()
        self.transport.write(head + body)
        self.transport.close()
