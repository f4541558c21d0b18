"""Who is calling: a secret key (server to server) or a client token (a browser).

Secret keys come from NUDGE_API_KEYS and are compared in constant time. Client
tokens are HS256 JWTs signed with NUDGE_SIGNING_SECRET; they may only read
prompts and report prompt events, for their own account and user.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from app.api.deps import RuntimeDep
from app.errors import Forbidden, Unauthorized
from app.runtime import Runtime
from app.services.client_tokens import InvalidClientToken, verify_client_token

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A secret key from NUDGE_API_KEYS, or a client token (JWT) for browsers.",
)


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


def _matches_any(candidate: str, keys: tuple[str, ...]) -> bool:
    found = False
    for key in keys:  # no early exit: the time taken does not tell which key matched
        found |= hmac.compare_digest(candidate.encode(), key.encode())
    return found


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


async def authenticate(runtime: RuntimeDep, credentials: BearerDep) -> Caller:
    return identify(runtime, credentials.credentials if credentials else None)


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, parsed as HTTPBearer does."""
    scheme, token = get_authorization_scheme_param(authorization)
    return token if scheme.lower() == "bearer" and token else None


def identify(runtime: Runtime, token: str | None) -> Caller:
    """The caller a bearer token names; 401 if it names nobody."""
    if not token:
        raise Unauthorized(
            "missing credentials: send Authorization: Bearer <secret key or client token>"
        )
    if _matches_any(token, runtime.api_keys):
        return Caller(kind="secret")
    if token.count(".") != 2:
        raise Unauthorized("unknown secret key; use one of NUDGE_API_KEYS or a client token")
    try:
        identity = verify_client_token(token, secret=runtime.signing_secret, now=runtime.clock())
    except InvalidClientToken as exc:
        raise Unauthorized(str(exc)) from None
    return Caller(kind="client", account_id=identity.account_id, user_id=identity.user_id)


async def require_secret(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
    if caller.kind != "secret":
        raise Forbidden(
            "client tokens may only call GET /v1/prompts and POST /v1/prompts/{id}/events; "
            "this route needs a secret key"
        )
    return caller


AnyCaller = Annotated[Caller, Depends(authenticate)]
SecretCaller = Annotated[Caller, Depends(require_secret)]
