"""What the SDK raises, and what it hands to `on_error` for usage it could not deliver.

    NudgeError                  anything from this SDK
    ├── NudgeConnectionError    the service could not be reached, or did not answer in time
    └── NudgeAPIError           the service answered with an error: status, code, message, details

Arguments the service always refuses (an op other than incr/set, an id outside the
alphabet, a value over 1e15, a naive timestamp, text that is not valid Unicode) raise
`ValueError` at the call, before any I/O. Events this SDK could not send all the same
reach `on_error` with a plain `NudgeError`.
"""

from __future__ import annotations

from typing import Any


class NudgeError(Exception):
    """Base of every error this SDK raises or reports."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NudgeConnectionError(NudgeError):
    """The service could not be reached, closed the connection, or did not answer in time.

    `request_sent` is False when the request never reached the service (the connection
    was refused or could not be opened in time), so nothing of it was applied.
    """

    def __init__(self, message: str, *, timed_out: bool = False, request_sent: bool = True) -> None:
        super().__init__(message)
        self.timed_out = timed_out
        self.request_sent = request_sent


class NudgeAPIError(NudgeError):
    """The service answered with an error (docs/api.md lists the codes).

    `details` is the answer's list: each item names what it is about (`field`, the
    `index` of an event in a usage batch) and has its own `message`. `retry_after` is
    the answer's Retry-After in seconds, where it sent one.
    """

    def __init__(  # noqa: PLR0917 public (nudge_sdk.__all__): NudgeAPIError(status, code, message)
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: list[dict[str, Any]] = details or []
        self.retry_after = retry_after
