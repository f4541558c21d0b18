"""Client tokens: short-lived HS256 JWTs a SaaS backend mints for its frontend.

Claims: `account_id` (required), `sub` (the user id, optional), `exp` (required).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from app.engine import format_duration
from app.identifiers import is_valid_id


@dataclass(frozen=True, slots=True)
class ClientIdentity:
    account_id: str
    user_id: str | None


class InvalidClientToken(Exception):
    pass


# A backend's clock may run a little ahead of the service's: a token minted for exactly
# the longest lifetime is not refused for that.
MAX_TTL_SKEW = timedelta(minutes=1)


def verify_client_token(
    token: str, *, secret: str, now: datetime, max_ttl: timedelta | None = None
) -> ClientIdentity:
    """The identity a valid token names; `max_ttl`: the longest a token may still live."""
    try:
        # Expiry is checked below against the service's clock, not PyJWT's own.
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            options={"require": ["exp", "account_id"], "verify_exp": False},
        )
    except jwt.InvalidTokenError as exc:
        raise InvalidClientToken(f"invalid client token: {exc}") from None
    expires = claims["exp"]
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise InvalidClientToken("client token's exp claim must be a number (seconds since epoch)")
    if expires <= now.timestamp():
        raise InvalidClientToken("client token has expired; mint a fresh one")
    if max_ttl is not None and expires > (now + max_ttl + MAX_TTL_SKEW).timestamp():
        longest = format_duration(max_ttl)
        hours = (expires - now.timestamp()) / 3600
        raise InvalidClientToken(
            f"client token expires {hours:,.1f} h from now, later than "
            f"NUDGE_CLIENT_TOKEN_MAX_TTL ({longest}) allows; mint tokens that live at most "
            f"{longest} (minutes are best: the SDKs fetch a fresh one when it expires)"
        )
    account_id = claims.get("account_id")
    user_id = claims.get("sub")
    if not isinstance(account_id, str) or not is_valid_id(account_id):
        raise InvalidClientToken("client token's account_id claim is not a valid account id")
    if user_id is not None and not (isinstance(user_id, str) and is_valid_id(user_id)):
        raise InvalidClientToken("client token's sub claim is not a valid user id")
    return ClientIdentity(account_id=account_id, user_id=user_id)


def mint_client_token(
    account_id: str, user_id: str | None, *, secret: str, now: datetime, ttl: timedelta
) -> str:
    """What a SaaS backend does to let its frontend call Nudge (the Python SDK wraps this)."""
    claims: dict[str, object] = {"account_id": account_id, "exp": int((now + ttl).timestamp())}
    if user_id is not None:
        claims["sub"] = user_id
    return jwt.encode(claims, secret, algorithm="HS256")
