"""CORS for browsers on the origins of NUDGE_CORS_ORIGINS, so a frontend on another origin
can call GET /v1/prompts and POST /v1/prompts/{id}/events with a client token.

The settings are known only once the app's lifespan has started (create_app() may run
before they are loaded), so the CORS handling is built on the first request from the
settings the app runs with. Without NUDGE_CORS_ORIGINS no CORS header is ever sent.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

# Browsers cache a preflight this long (seconds).
PREFLIGHT_MAX_AGE = 600


class CorsFromSettings:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._handler: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: PLR0917 ASGI's signature
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._handler is None:
            origins = scope["app"].state.runtime.settings.cors_origins
            self._handler = (
                CORSMiddleware(
                    self.app,
                    allow_origins=list(origins),
                    allow_methods=["GET", "POST"],
                    allow_headers=["authorization", "content-type"],
                    max_age=PREFLIGHT_MAX_AGE,
                )
                if origins
                else self.app
            )
        await self._handler(scope, receive, send)
