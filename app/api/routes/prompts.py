"""The prompt routes. `GET /v1/prompts` is the hot path: a bare Starlette route.

The host product calls it on page views, so it skips FastAPI's request handling
(dependency and parameter resolution cost more than the request's own work) and
does the same steps by hand: bearer token, query model, one store read. FastAPI
still documents it, from the same models, through `PROMPTS_DOC`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.routing import Match, Route
from starlette.types import Scope

from app.api.auth import AnyCaller, bearer_scheme, bearer_token, client_address
from app.api.deps import PromptEventsDep, runtime_of
from app.api.query import openapi_parameters, parse_query
from app.api.responses import BODY_ERRORS, V1_ERRORS
from app.api.schemas.common import ErrorOut
from app.api.schemas.prompts import PromptEventIn, PromptQuery, PromptsOut
from app.engine import json_number
from app.errors import InvalidRequest
from app.services.prompts import PromptAnswer, ServedPrompt

router = APIRouter(prefix="/v1/prompts", tags=["prompts"], responses=V1_ERRORS)


async def get_prompts(request: Request) -> JSONResponse:
    runtime = runtime_of(request)
    caller = runtime.auth.identify(
        bearer_token(request.headers.get("authorization")),
        client_address=client_address(request.scope),
    )
    query = parse_query(PromptQuery, request)
    account_id, user_id = query.account_id, query.user_id
    if caller.kind == "client":
        if account_id is not None:
            caller.check_account(account_id)
        if user_id is not None:
            caller.check_user(user_id)
        account_id, user_id = caller.account_id, caller.user_id
    if account_id is None:
        raise InvalidRequest(
            "account_id is required with a secret key",
            details=[{"field": "account_id", "message": "is required"}],
        )
    answer = await runtime.prompts.prompts_for(account_id, user_id, placement=query.placement)
    return JSONResponse(prompts_json(answer))


def prompts_json(answer: PromptAnswer) -> dict[str, Any]:
    """The answer as PromptsOut declares it, built by hand: the hot path skips pydantic
    (tests/api/test_prompts_json.py holds the two to each other)."""
    return {
        "prompts": [prompt_json(served) for served in answer.prompts],
        "degraded": answer.degraded,
    }


def prompt_json(served: ServedPrompt) -> dict[str, Any]:
    rendered = served.prompt
    return {
        "id": served.id,
        "trigger": rendered.trigger,
        "metric": rendered.metric,
        "usage": json_number(rendered.usage),
        "limit": json_number(rendered.limit),
        "plan": rendered.plan,
        "upgrade_plan": rendered.upgrade_plan,
        "style": rendered.style,
        "title": rendered.title,
        "body": rendered.body,
        "cta": (
            {"label": rendered.cta_label, "url": rendered.cta_url}
            if rendered.cta_label is not None and rendered.cta_url is not None
            else None
        ),
    }


class _HotRoute(Route):
    """A Starlette route that names itself in the scope, as FastAPI's routes do, so
    request metrics label it by its path template."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self
        return match, child_scope


PROMPTS_ROUTE = _HotRoute("/v1/prompts", get_prompts, methods=["GET"])

# Documentation only: what OpenAPI says of PROMPTS_ROUTE, built from the same models.
PROMPTS_DOC = APIRoute(
    "/v1/prompts",
    get_prompts,
    methods=["GET"],
    tags=["prompts"],
    summary="The prompts to show an account's user now",
    response_model=PromptsOut,
    dependencies=[Depends(bearer_scheme)],
    responses=V1_ERRORS,
    openapi_extra={"parameters": openapi_parameters(PromptQuery)},
)


@router.post(
    "/{prompt_id}/events",
    status_code=202,
    summary="Report what the user did with a prompt",
    responses={
        **BODY_ERRORS,
        404: {"model": ErrorOut, "description": "Unknown, altered or expired prompt id"},
    },
)
async def post_prompt_event(
    prompt_id: Annotated[str, Path(max_length=1024)],
    body: PromptEventIn,
    *,
    caller: AnyCaller,
    events: PromptEventsDep,
) -> dict[str, str]:
    await events.record(prompt_id, body.type, caller=caller)
    return {"status": "accepted"}
