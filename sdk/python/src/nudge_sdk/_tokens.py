"""Client tokens: the short-lived HS256 JWTs a backend mints for its frontend, signed locally."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from nudge_sdk._checks import check_id
from nudge_sdk.errors import NudgeError


def mint_client_token(
    account_id: str, user_id: str | None, *, ttl: timedelta, signing_secret: str | None
) -> str:
    """A token for `GET /v1/prompts` and prompt events, for this account and user only."""
    if not signing_secret:
        raise NudgeError(
            "mint_client_token needs the service's NUDGE_SIGNING_SECRET: "
            "create the client with signing_secret=... (or pass it to mint_client_token)"
        )
    check_id("account_id", account_id)
    if user_id is not None:
        check_id("user_id", user_id)
    if not isinstance(ttl, timedelta) or ttl.total_seconds() < 1:
        raise ValueError(f"ttl must be a timedelta of at least one second, not {ttl!r}")
    expires = datetime.now(UTC) + ttl
    claims: dict[str, object] = {"account_id": account_id, "exp": int(expires.timestamp())}
    if user_id is not None:
        claims["sub"] = user_id
    return jwt.encode(claims, signing_secret, algorithm="HS256")
