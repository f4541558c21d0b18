"""The FastAPI application. `create_app(settings)` builds it; its lifespan starts the
service (app/startup.py, the composition root) and stops it.

`uvicorn app.main:app` serves `app`, whose settings are read from the environment
when it starts, not when this module is imported.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.cors import CorsFromSettings
from app.api.error_handlers import install_error_handlers
from app.api.request_guard import RequestGuardMiddleware
from app.api.routes import accounts, ops, prompts, rules, signals, usage
from app.clock import Clock, utc_now
from app.observability import Metrics, RequestMetricsMiddleware
from app.settings import Settings
from app.startup import StartupError, settings_or_refuse, start


def create_app(
    settings: Settings | None = None, *, clock: Clock = utc_now, base_url: str | None = None
) -> FastAPI:
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            try:
                app.state.runtime = await start(
                    settings or settings_or_refuse(),
                    clock=clock,
                    metrics=metrics,
                    stack=stack,
                    base_url=base_url,
                )
            except StartupError as refused:
                # Said once, in words; the server is told only that start-up failed.
                app.state.startup_error = refused
                print(refused.report(), file=sys.stderr, flush=True)
                raise
            # What start-up built lives as long as the app: keep it out of the garbage
            # collector's full passes, which otherwise stall the event loop for tens of ms.
            gc.collect()
            gc.freeze()
            yield
            gc.unfreeze()

    app = FastAPI(
        title="Nudge",
        version="1",
        summary="In-app upgrade prompts driven by per-account usage",
        lifespan=lifespan,
    )
    app.state.startup_error = None
    install_error_handlers(app)
    # The prompt path first: routes are matched in order, and it is the hot one.
    app.router.routes.append(prompts.PROMPTS_ROUTE)
    routers = (prompts.router, usage.router, accounts.router, signals.router, rules.router)
    for router in (*routers, ops.router):
        app.include_router(router)
    _document(app, prompts.PROMPTS_DOC)
    app.add_middleware(RequestGuardMiddleware)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)
    app.add_middleware(CorsFromSettings)  # outermost: preflights never reach the routes
    app.add_middleware(QuietRefusal)
    return app


class QuietRefusal:
    """A start refused with a StartupError has been reported in words (rule errors as
    `nudge rules check` prints them); keep the traceback of it out of the server's log."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: PLR0917 ASGI's signature
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def quiet(message: Message) -> None:
            refused = scope["app"].state.startup_error is not None
            if message["type"] == "lifespan.startup.failed" and refused:
                message = {**message, "message": ""}
            await send(message)

        await self.app(scope, receive, quiet)


def _document(app: FastAPI, *routes: APIRoute) -> None:
    """Add to the OpenAPI document routes that are served outside FastAPI's routing."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=[*routes, *app.routes],
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


app = create_app()
