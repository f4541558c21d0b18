"""The routes' side of authentication: the bearer scheme, and the dependencies that
name the caller (app/services/authentication.py decides who it is)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from starlette.types import Scope

from app.api.deps import AuthDep
from app.errors import Forbidden
from app.services.authentication import Caller

bearer_scheme = HTTPBearer(
    auto_error=False,
    description="A secret key from NUDGE_API_KEYS, or a client token (JWT) for browsers.",
)


def client_address(scope: Scope) -> str:
    """The connection's peer, as the server reports it (see docs/operations.md on proxies)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, parsed as HTTPBearer does."""
    scheme, token = get_authorization_scheme_param(authorization)
    return token if scheme.lower() == "bearer" and token else None


BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)]


async def authenticate(request: Request, auth: AuthDep, *, credentials: BearerDep) -> Caller:
    return auth.identify(
        credentials.credentials if credentials else None,
        client_address=client_address(request.scope),
    )


async def require_secret(caller: Annotated[Caller, Depends(authenticate)]) -> Caller:
    if caller.kind != "secret":
        raise Forbidden(
            "client tokens may only call GET /v1/prompts and POST /v1/prompts/{id}/events; "
            "this route needs a secret key"
        )
    return caller


AnyCaller = Annotated[Caller, Depends(authenticate)]
SecretCaller = Annotated[Caller, Depends(require_secret)]
