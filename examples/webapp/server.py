"""The demo's backend: a tiny analytics product ("Plotline") that uses Nudge.

What a SaaS backend does with Nudge, all through the Python SDK (nudge_sdk):
- reports usage when it changes: `track(account, "seats", n, op="set")` on an invite,
  `track(account, "dashboards", n, op="set")` when a dashboard is added;
- reports plan changes: `set_plan(account, "team")` when the customer upgrades;
- mints a short-lived client token per signed-in user for the browser, which asks
  Nudge itself (with the JS SDK) which prompt to show.

The secret key and the signing secret stay here; the browser only ever holds a client
token for its own account and user.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from nudge_sdk import AsyncNudgeClient, NudgeError, RetryPolicy
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from workspaces import Member, Workspace, Workspaces

logger = logging.getLogger("plotline")

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
JS_SDK = HERE.parent.parent / "sdk" / "js" / "nudge.js"

# The demo's billing catalogue: which plan an "Upgrade" button sells next. The limits
# themselves live in Nudge's rules (rules/core.yaml); the page reads them from Nudge.
NEXT_PLAN = {"free": "team", "team": "business"}
TOKEN_TTL = timedelta(minutes=15)
FLUSH_TIMEOUT = 1.0  # seconds an action waits for its usage to reach Nudge
WORKSPACE_COOKIE = "plotline_workspace"
USER_COOKIE = "plotline_user"


@dataclass(frozen=True)
class DemoConfig:
    nudge_url: str  # the Nudge service, as the browser reaches it (CORS: NUDGE_CORS_ORIGINS)
    api_key: str  # one of the service's NUDGE_API_KEYS; never sent to the browser
    signing_secret: str  # the service's NUDGE_SIGNING_SECRET, to mint client tokens


class UserError(Exception):
    """A request the demo refuses, with a message for the person who made it."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Plotline:
    """The demo's request handlers, over its workspaces and a Nudge client.

    Each answer lists, in `backend_calls`, the SDK calls the backend made for it, which
    the page shows in its "Under the hood" panel.
    """

    def __init__(self, nudge: AsyncNudgeClient, config: DemoConfig) -> None:
        self.nudge = nudge
        self.config = config
        self.workspaces = Workspaces()

    # --- pages --------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html")

    async def upgrade_page(self, request: Request) -> Response:
        # Where the prompts' call to action (/billing/upgrade?plan=team) leads.
        return FileResponse(STATIC / "upgrade.html")

    async def js_sdk(self, request: Request) -> Response:
        # The browser SDK, served from this repository's sdk/js (a real app bundles it
        # or installs it from npm).
        return FileResponse(JS_SDK, media_type="text/javascript")

    # --- the API the page calls ---------------------------------------------------------

    async def session(self, request: Request) -> Response:
        """The signed-in user's view: workspace, team, dashboards, usage, a Nudge token."""
        calls: list[str] = []
        workspace, member = await self._signed_in(request, calls)
        response = JSONResponse(await self._view(workspace, member, calls=calls, token=True))
        self._remember(response, workspace=workspace, member=member)
        return response

    async def invite(self, request: Request) -> Response:
        calls: list[str] = []
        workspace, member = await self._signed_in(request, calls, create=False)
        seats = await self._limit(workspace, "seats", calls=calls)
        if seats is not None and len(workspace.members) >= seats:
            raise UserError(
                409,
                f"The {workspace.plan} plan includes {seats:g} seats, and all of them are "
                "taken. Upgrade to invite more people.",
            )
        person = workspace.next_person()
        if person is None:
            raise UserError(409, "This demo has run out of people to invite.")
        workspace.members.append(person)
        await self._report(workspace, "seats", level=len(workspace.members), calls=calls)
        return JSONResponse(await self._view(workspace, member, calls=calls))

    async def add_dashboard(self, request: Request) -> Response:
        calls: list[str] = []
        workspace, member = await self._signed_in(request, calls, create=False)
        dashboards = await self._limit(workspace, "dashboards", calls=calls)
        if dashboards is not None and len(workspace.dashboards) >= dashboards:
            raise UserError(
                409,
                f"The {workspace.plan} plan includes {dashboards:g} dashboards. "
                "Upgrade to add more.",
            )
        workspace.dashboards.append(workspace.next_dashboard())
        await self._report(workspace, "dashboards", level=len(workspace.dashboards), calls=calls)
        return JSONResponse(await self._view(workspace, member, calls=calls))

    async def change_plan(self, request: Request) -> Response:
        """The upgrade: the product's billing succeeded, so tell Nudge the new plan."""
        calls: list[str] = []
        workspace, member = await self._signed_in(request, calls, create=False)
        body = await _json_body(request)
        plan = body.get("plan")
        if not isinstance(plan, str) or plan not in NEXT_PLAN.values():
            raise UserError(
                422, f"plan must be one of {', '.join(NEXT_PLAN.values())}, not {plan!r}"
            )
        try:
            await self.nudge.set_plan(workspace.account_id, plan)
        except NudgeError as exc:
            logger.warning("set_plan(%s, %s) failed: %s", workspace.account_id, plan, exc)
            raise UserError(
                503, f"Could not change the plan right now ({exc.message}); try again."
            ) from exc
        calls.append(f'set_plan("{workspace.account_id}", "{plan}")')
        workspace.plan = plan
        return JSONResponse(await self._view(workspace, member, calls=calls))

    async def switch_user(self, request: Request) -> Response:
        """Sign in as another member of the workspace: dismissals are per user."""
        calls: list[str] = []
        workspace, _ = await self._signed_in(request, calls, create=False)
        body = await _json_body(request)
        member = workspace.member(str(body.get("user_id")))
        if member is None:
            raise UserError(422, f"{body.get('user_id')!r} is not a member of this workspace")
        response = JSONResponse(await self._view(workspace, member, calls=calls, token=True))
        self._remember(response, workspace=workspace, member=member)
        return response

    async def client_token(self, request: Request) -> Response:
        """A fresh client token for the JS SDK's getToken (it asks again on a 401)."""
        workspace, member = await self._signed_in(request, [], create=False)
        return JSONResponse({"token": self._token(workspace, member, calls=[])})

    async def reset(self, request: Request) -> Response:
        """Start over on a new workspace (a new Nudge account: no usage, no dismissals)."""
        calls: list[str] = []
        workspace = await self._new_workspace(calls)
        owner = workspace.members[0]
        response = JSONResponse(await self._view(workspace, owner, calls=calls, token=True))
        self._remember(response, workspace=workspace, member=owner)
        return response

    # --- helpers ------------------------------------------------------------------------

    async def _signed_in(
        self, request: Request, calls: list[str], *, create: bool = True
    ) -> tuple[Workspace, Member]:
        workspace = self.workspaces.get(request.cookies.get(WORKSPACE_COOKIE, ""))
        if workspace is None:
            if not create:
                raise UserError(401, "Your demo session has expired; reload the page.")
            workspace = await self._new_workspace(calls)
        member = workspace.member(request.cookies.get(USER_COOKIE, "")) or workspace.members[0]
        return workspace, member

    async def _new_workspace(self, calls: list[str]) -> Workspace:
        workspace = self.workspaces.create(plan="free")
        try:
            await self.nudge.set_plan(workspace.account_id, workspace.plan)
            calls.append(f'set_plan("{workspace.account_id}", "{workspace.plan}")')
        except NudgeError as exc:  # the product works without Nudge; prompts just stay away
            logger.warning("set_plan(%s) failed: %s", workspace.account_id, exc)
            calls.append(f'set_plan("{workspace.account_id}", "free") → {type(exc).__name__}')
        await self._report(workspace, "seats", level=len(workspace.members), calls=calls)
        return workspace

    async def _report(
        self, workspace: Workspace, metric: str, *, level: int, calls: list[str]
    ) -> None:
        # `set` a gauge to the level the product knows: a resend can never drift it.
        self.nudge.track(workspace.account_id, metric, level, op="set")
        calls.append(f'track("{workspace.account_id}", "{metric}", {level}, op="set")')
        # track() only queues the event; the SDK sends it from the background within its
        # flush interval. The demo flushes now so that the page's next prompt check sees
        # it. Bounded: if Nudge is away, the event stays queued and is sent later.
        delivered = await self.nudge.flush(timeout=FLUSH_TIMEOUT)
        calls.append(
            "flush()"
            if delivered
            else "flush(): not all delivered (queued, or dropped: see the log)"
        )

    async def _limit(self, workspace: Workspace, metric: str, *, calls: list[str]) -> float | None:
        """The plan's limit on `metric` as Nudge knows it; None if unlimited or unknown."""
        try:
            account = await self.nudge.get_account(workspace.account_id)
        except NudgeError as exc:  # no limits to enforce while Nudge is away: let it through
            logger.warning("get_account(%s) failed: %s", workspace.account_id, exc)
            calls.append(f'get_account("{workspace.account_id}") → {type(exc).__name__}')
            return None
        calls.append(f'get_account("{workspace.account_id}")')
        usage = account.usage.get(metric)
        return None if usage is None or usage.limit is None else float(usage.limit)

    async def _view(
        self, workspace: Workspace, member: Member, *, calls: list[str], token: bool = False
    ) -> dict[str, Any]:
        usage: dict[str, Any] | None = None
        try:
            account = await self.nudge.get_account(workspace.account_id)
            usage = {
                metric: {"value": value.value, "limit": value.limit}
                for metric, value in account.usage.items()
            }
        except NudgeError as exc:  # the page shows counts without limits
            logger.warning("get_account(%s) failed: %s", workspace.account_id, exc)
            calls.append(f'get_account("{workspace.account_id}") → {type(exc).__name__}')
        view: dict[str, Any] = {
            "workspace": {
                "account_id": workspace.account_id,
                "name": workspace.name,
                "plan": workspace.plan,
                "next_plan": NEXT_PLAN.get(workspace.plan),
            },
            "user": _member_json(member),
            "members": [_member_json(m) for m in workspace.members],
            "dashboards": workspace.dashboards,
            "usage": usage,
            "nudge": {"endpoint": self.config.nudge_url},
            "backend_calls": calls,
        }
        if token:
            view["nudge"]["token"] = self._token(workspace, member, calls=calls)
        return view

    def _token(self, workspace: Workspace, member: Member, *, calls: list[str]) -> str:
        calls.append(
            f'mint_client_token("{workspace.account_id}", user_id="{member.user_id}", ttl=15 min)'
        )
        return self.nudge.mint_client_token(
            workspace.account_id, user_id=member.user_id, ttl=TOKEN_TTL
        )

    @staticmethod
    def _remember(response: Response, *, workspace: Workspace, member: Member) -> None:
        response.set_cookie(WORKSPACE_COOKIE, workspace.account_id, httponly=True, samesite="lax")
        response.set_cookie(USER_COOKIE, member.user_id, httponly=True, samesite="lax")


def _member_json(member: Member) -> dict[str, str]:
    return {
        "user_id": member.user_id,
        "name": member.name,
        "role": member.role,
        "email": member.email,
    }


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise UserError(400, "the request body must be JSON") from None
    if not isinstance(body, dict):
        raise UserError(400, "the request body must be a JSON object")
    return body


def _handled(
    handler: Callable[[Request], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except UserError as exc:
            return JSONResponse({"error": {"message": exc.message}}, status_code=exc.status)

    return endpoint


def create_app(config: DemoConfig) -> Starlette:
    """The demo backend, talking to the Nudge service at `config.nudge_url`."""
    nudge = AsyncNudgeClient(
        config.nudge_url,
        api_key=config.api_key,
        signing_secret=config.signing_secret,
        # The demo's pages wait on set_plan and get_account: keep that wait short if
        # Nudge is away (the page then works on without limits or prompts).
        timeout=2.0,
        retry=RetryPolicy(max_retries=1),
    )
    plotline = Plotline(nudge, config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with nudge:  # starts the sender; on the way out, sends what track() still holds
            yield

    def api(path: str, handler: Callable[[Request], Awaitable[Response]], *, method: str) -> Route:
        return Route(path, _handled(handler), methods=[method])

    routes = [
        Route("/", plotline.index),
        Route("/billing/upgrade", plotline.upgrade_page),
        Route("/sdk/nudge.js", plotline.js_sdk),
        api("/api/session", plotline.session, method="GET"),
        api("/api/members", plotline.invite, method="POST"),
        api("/api/dashboards", plotline.add_dashboard, method="POST"),
        api("/api/plan", plotline.change_plan, method="POST"),
        api("/api/user", plotline.switch_user, method="POST"),
        api("/api/nudge-token", plotline.client_token, method="POST"),
        api("/api/reset", plotline.reset, method="POST"),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(NoStore)])


class NoStore:
    """A demo that changes as you edit it: the browser never serves a stale file."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: PLR0917 ASGI's signature
        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_no_store if scope["type"] == "http" else send)
