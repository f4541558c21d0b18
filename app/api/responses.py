"""The error answers every v1 route can give, for the OpenAPI document.

Each is the `{"error": {...}}` envelope (ErrorOut); FastAPI's own 422 schema is
replaced because the service never answers with it.
"""

from __future__ import annotations

from typing import Any

from app.api.schemas.common import ErrorOut

_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}
}


def _error(description: str, **extra: Any) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description, **extra}


V1_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error("No credentials, or a bad or expired one"),
    403: _error("A client token asking for another account, user or a secret-only route"),
    422: _error("An invalid field or event; `details` names each one. Nothing was applied"),
    429: _error(
        "Over a limit: a client token's requests to the prompt routes, or requests with a "
        "missing or bad credential from this address; retry after Retry-After",
        headers=_RETRY_AFTER,
    ),
    503: _error("Redis or the database did not answer; retry", headers=_RETRY_AFTER),
}

# Routes that take a body can also answer these.
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The body could not be parsed as JSON"),
    408: _error("The request body did not arrive in time (NUDGE_BODY_TIMEOUT_SECONDS)"),
    413: _error("A request body over 1 MiB"),
}
