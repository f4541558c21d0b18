"""Refuse, before any route reads them, requests the routes must never see: a body over
the size limit (413) or slower than its time limit (408), and text that is not valid
Unicode in the path, the query or a JSON body (422 naming the field). Either way
nothing of the request is applied."""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: PLR0917 ASGI's signature
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = invalid_text_in_path(scope.get("raw_path") or b"") or invalid_text_in_query(
            scope.get("query_string", b"")
        )
        if problem is not None:
            await _text_refused(problem, scope["method"])(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        body = await self._read_body(scope, receive)
        if body is None:
            return  # the client went away
        if isinstance(body, JSONResponse):
            await body(scope, receive, send)
            return
        problem = invalid_text_in_body(body)
        if problem is not None:
            await _text_refused(problem, scope["method"])(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | JSONResponse | None:
        """The whole body (it is at most max_bytes), to replay to the app; or the response
        that refuses it; or None when the client went away first."""
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return self._too_large()
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
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_bytes:
                        return self._too_large()
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            return _slow_body_refused(timeout)
        return b"".join(chunks)

    def _too_large(self) -> JSONResponse:
        return error_response(
            413,
            "payload_too_large",
            message=f"the request body is over {self.max_bytes // 1024} KiB; send smaller batches",
        )


def _slow_body_refused(seconds: float) -> JSONResponse:
    return error_response(
        408,
        "request_timeout",
        message=f"the request body did not arrive within {seconds:g} s "
        "(NUDGE_BODY_TIMEOUT_SECONDS); nothing was applied",
        headers={"Connection": "close"},
    )


def _text_refused(problem: Detail, method: str) -> JSONResponse:
    applied = "" if method in ("GET", "HEAD") else "; nothing was applied"
    return error_response(
        422,
        "invalid_request",
        message=f"invalid request: {problem['field']}: {problem['message']}{applied}",
        details=[problem],
    )
