"""Every error the service answers with, as one hierarchy.

    NudgeError                      base; carries code, status, message and details
    ├── InvalidRequest              422 invalid_request: a field or event is wrong
    ├── RulesInvalid                422 rules_invalid: rule files have errors
    ├── Unauthorized                401 unauthorized: no, bad or expired credentials
    ├── Forbidden                   403 forbidden: credentials not allowed to do this
    ├── NotFound                    404 not_found
    ├── PayloadTooLarge             413 payload_too_large: body over the limit
    ├── RateLimited                 429 rate_limited: over a limit; retry after
    │                               Retry-After seconds
    └── StoreUnavailable            503 store_unavailable: Redis or the database
                                    did not answer; nothing was applied, retry

Stores translate their drivers' exceptions into StoreUnavailable; nothing from
redis-py or SQLAlchemy leaks past app/store/. The API maps each error to
`{"error": {"code", "message", "details"}}` (see app/api/error_handlers.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Detail = Mapping[str, Any]


class NudgeError(Exception):
    code = "error"
    status = 500

    def __init__(self, message: str, *, details: Sequence[Detail] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.details = list(details)


class InvalidRequest(NudgeError):
    code = "invalid_request"
    status = 422


class RulesInvalid(NudgeError):
    code = "rules_invalid"
    status = 422


class Unauthorized(NudgeError):
    code = "unauthorized"
    status = 401


class Forbidden(NudgeError):
    code = "forbidden"
    status = 403


class NotFound(NudgeError):
    code = "not_found"
    status = 404


class PayloadTooLarge(NudgeError):
    code = "payload_too_large"
    status = 413


class RateLimited(NudgeError):
    code = "rate_limited"
    status = 429

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class StoreUnavailable(NudgeError):
    code = "store_unavailable"
    status = 503
    retry_after_seconds = 1


ERROR_CODES: dict[str, int] = {
    cls.code: cls.status
    for cls in (
        InvalidRequest,
        RulesInvalid,
        Unauthorized,
        Forbidden,
        NotFound,
        PayloadTooLarge,
        RateLimited,
        StoreUnavailable,
    )
}
