"""Map every error to `{"error": {"code", "message", "details"}}` with the right status."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from app.errors import NudgeError, RateLimited, StoreUnavailable
from app.identifiers import ID_REGEX, ID_RULE

log = logging.getLogger(__name__)

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_response(
    status: int,
    code: str,
    *,
    message: str,
    details: Sequence[Any] = (),
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, "details": list(details)}},
        status_code=status,
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NudgeError, _nudge_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected_error)


async def _nudge_error(_request: Request, exc: NudgeError) -> JSONResponse:
    headers = None
    if isinstance(exc, StoreUnavailable | RateLimited):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    elif exc.status == 401:
        headers = {"WWW-Authenticate": "Bearer"}
    return error_response(
        exc.status, exc.code, message=exc.message, details=exc.details, headers=headers
    )


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    details = [_detail(error) for error in exc.errors()]
    first = details[0]
    where = f"{first['field']}: " if first.get("field") else ""
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    applied = "" if request.method == "GET" else "; nothing was applied"
    message = f"invalid request: {where}{first['message']}{more}{applied}"
    return error_response(422, "invalid_request", message=message, details=details)


def _detail(error: Any) -> dict[str, Any]:
    loc = [part for part in error.get("loc", ()) if part not in ("body", "query", "path", "header")]
    if error.get("type") == "json_invalid":
        # Its loc holds the character position of the syntax error, not a field.
        where = f" at character {loc[0]}" if loc else ""
        return {"field": None, "message": f"{_message(error)}{where}"}
    field = ""
    for part in loc:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    if not field and tuple(error.get("loc", ())) == ("body",):
        field = "body"  # the body itself is missing or is not an object
    detail: dict[str, Any] = {"field": field or None, "message": _message(error)}
    if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
        detail["index"] = loc[1]
    return detail


def _message(error: Any) -> str:
    kind = error.get("type")
    if kind == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == ID_REGEX:
        return f"must be {ID_RULE}"
    if kind == "missing" and tuple(error.get("loc", ())) == ("body",):
        return "a JSON object body is required; send it with Content-Type: application/json"
    if kind == "missing":
        return "is required"
    if kind in ("model_attributes_type", "dict_type") and tuple(error.get("loc", ())) == ("body",):
        return "the body must be a JSON object; send it with Content-Type: application/json"
    if kind == "json_invalid":
        return f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "too_long" and error.get("loc", ())[-1:] == ("events",):
        return "a batch holds at most 1,000 events; split it"
    return str(error.get("msg", "is invalid")).removeprefix("Value error, ")


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    code = _HTTP_CODES.get(exc.status_code, "error")
    where = f"{request.method} {request.url.path}"
    if exc.status_code == 404:
        message = f"no such route: {where}; the API is described at /docs"
    elif exc.status_code == 405:
        # The route that refused knows only its own methods; the path may have more routes.
        allowed = ", ".join(allowed_methods(request))
        headers = {**(exc.headers or {}), "Allow": allowed}
        message = f"{where} is not allowed" + (f"; this path takes {allowed}" if allowed else "")
        return error_response(405, "method_not_allowed", message=message, headers=headers)
    elif exc.status_code == 400:
        # Starlette's parser gave up: nesting too deep, a number with thousands of digits.
        message = (
            "the body could not be parsed as JSON (too deeply nested, or a number too long); "
            "send a JSON object as the API describes"
        )
    else:
        message = str(exc.detail) if exc.detail else code.replace("_", " ")
    return error_response(exc.status_code, code, message=message, headers=exc.headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route of the app accepts on the request's path."""
    routes = request.app.router.routes
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return error_response(
        500, "internal_error", message="an unexpected error occurred; it has been logged"
    )
