"""Who is calling: a secret key (server to server) or a client token (a browser).

Secret keys come from NUDGE_API_KEYS and are compared in constant time. Client tokens
are HS256 JWTs signed with NUDGE_SIGNING_SECRET that live at most
NUDGE_CLIENT_TOKEN_MAX_TTL; they may only read prompts and report prompt events, for
their own account and user, and only as often as NUDGE_CLIENT_RATE_LIMIT allows.
Requests with a missing or bad credential are limited per client address by
NUDGE_AUTH_FAILURE_LIMIT. Both limits count in this process (see rate_limits.py).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from app.clock import Clock
from app.errors import Forbidden, RateLimited, Unauthorized
from app.services.client_tokens import InvalidClientToken, verify_client_token
from app.services.rate_limits import RateLimiter
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class Caller:
    kind: Literal["secret", "client"]
    account_id: str | None = None  # client tokens: the only account they may name
    user_id: str | None = None  # client tokens: the only user they may name

    def check_account(self, account_id: str) -> None:
        if self.kind == "client" and account_id != self.account_id:
            raise Forbidden("this client token may only act for its own account")

    def check_user(self, user_id: str | None) -> None:
        if self.kind == "client" and user_id != self.user_id:
            raise Forbidden("this client token may only act for its own user")


class Authenticator:
    """Checks credentials, and counts what the limits count, in this process."""

    def __init__(
        self, settings: Settings, *, api_keys: tuple[str, ...], signing_secret: str, clock: Clock
    ) -> None:
        """The limits come from `settings`; the credentials are passed checked (and, on the
        embedded default, generated) by the composition root."""
        self._keys = tuple(key.encode() for key in api_keys)
        self._secret = signing_secret
        self._clock = clock
        self._max_ttl = settings.client_token_max_ttl
        client_limit, failure_limit = settings.client_rate_limit, settings.auth_failure_limit
        self._clients = RateLimiter(client_limit) if client_limit else None
        self._failures = RateLimiter(failure_limit) if failure_limit else None

    def identify(self, token: str | None, *, client_address: str) -> Caller:
        """The caller a bearer token names: 401 if it names nobody, 429 over a limit."""
        now = self._clock()
        try:
            caller = self._caller(token, now=now)
        except Unauthorized:
            if self._failures is not None:
                wait = self._failures.hit(client_address, now=now.timestamp())
                if wait is not None:
                    raise RateLimited(
                        f"too many requests with a missing or bad credential from "
                        f"{client_address} (over {self._failures.rate}); fix the credential, "
                        f"then retry in {wait} s",
                        retry_after_seconds=wait,
                    ) from None
            raise
        if caller.kind == "client" and self._clients is not None:
            wait = self._clients.hit((caller.account_id, caller.user_id), now=now.timestamp())
            if wait is not None:
                raise RateLimited(
                    f"this client token's account and user are over {self._clients.rate} "
                    f"on the prompt routes; retry in {wait} s",
                    retry_after_seconds=wait,
                )
        return caller

    def _caller(self, token: str | None, *, now: datetime) -> Caller:
        if not token:
            raise Unauthorized(
                "missing credentials: send Authorization: Bearer <secret key or client token>"
            )
        if self._matches_any(token):
            return Caller(kind="secret")
        if token.count(".") != 2:
            raise Unauthorized("unknown secret key; use one of NUDGE_API_KEYS or a client token")
        try:
            identity = verify_client_token(
                token, secret=self._secret, now=now, max_ttl=self._max_ttl
            )
        except InvalidClientToken as exc:
            raise Unauthorized(str(exc)) from None
        return Caller(kind="client", account_id=identity.account_id, user_id=identity.user_id)

    def _matches_any(self, candidate: str) -> bool:
        given = candidate.encode()
        found = False
        for key in self._keys:  # no early exit: the time taken does not tell which key matched
            found |= hmac.compare_digest(given, key)
        return found
