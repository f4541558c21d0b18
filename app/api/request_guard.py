"""Refuse, before any route reads them, requests the routes must never see: a body over
the size limit (413) or slower than its time limit (408), and text that is not valid
Unicode in the path, the query or a JSON body (422 naming the field). Either way
nothing of the request is applied."""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.error_handlers import error_response
from app.api.request_text import (
    Detail,
    invalid_text_in_body,
    invalid_text_in_path,
    invalid_text_in_query,
)

MAX_BODY_BYTES = 1024 * 1024


class RequestGuardMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = invalid_text_in_path(scope.get("raw_path") or b"") or invalid_text_in_query(
            scope.get("query_string", b"")
        )
        if problem is not None:
            await _refuse_text(problem, scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse_size(scope, receive, send)
            return
        # Read the body here (it is at most max_bytes) and replay it to the app.
        chunks: list[bytes] = []
        size = 0
        # The whole body must arrive in time: a client that stalls half way through its
        # body must not hold the connection (and the request's memory) for ever.
        timeout = scope["app"].state.runtime.settings.body_timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_bytes:
                        await self._refuse_size(scope, receive, send)
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            await _refuse_slow_body(timeout, scope, receive, send)
            return
        body = b"".join(chunks)
        problem = invalid_text_in_body(body)
        if problem is not None:
            await _refuse_text(problem, scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse_size(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "payload_too_large",
            f"the request body is over {self.max_bytes // 1024} KiB; send smaller batches",
        )
        await response(scope, receive, send)


async def _refuse_slow_body(seconds: float, scope: Scope, receive: Receive, send: Send) -> None:
    response = error_response(
        408,
        "request_timeout",
        f"the request body did not arrive within {seconds:g} s (NUDGE_BODY_TIMEOUT_SECONDS); "
        "nothing was applied",
        headers={"Connection": "close"},
    )
    await response(scope, receive, send)


async def _refuse_text(problem: Detail, scope: Scope, receive: Receive, send: Send) -> None:
    applied = "" if scope["method"] in ("GET", "HEAD") else "; nothing was applied"
    response = error_response(
        422,
        "invalid_request",
        f"invalid request: {problem['field']}: {problem['message']}{applied}",
        [problem],
    )
    await response(scope, receive, send)
