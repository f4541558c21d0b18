from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from app.api.auth import AnyCaller
from app.api.deps import LiveRulesDep, NowDep, RuntimeDep
from app.api.schemas import AccountId, ErrorOut, PromptEventIn, PromptsOut, UserId
from app.errors import InvalidRequest, NotFound
from app.services.prompt_events import record_prompt_event
from app.services.prompt_ids import InvalidPromptId

router = APIRouter(prefix="/v1/prompts", tags=["prompts"])


@router.get(
    "",
    response_model=PromptsOut,
    summary="The prompts to show an account's user now",
    responses={
        403: {"model": ErrorOut, "description": "A client token naming another account or user"}
    },
)
async def get_prompts(
    caller: AnyCaller,
    runtime: RuntimeDep,
    live: LiveRulesDep,
    now: NowDep,
    account_id: Annotated[AccountId | None, Query()] = None,
    user_id: Annotated[UserId | None, Query()] = None,
    placement: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
) -> JSONResponse:
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
    answer = await runtime.prompts.prompts_for(
        account_id, user_id, placement=placement, rules=live.rules, now=now
    )
    # Built by hand, not re-validated through the response model: this is the hot path.
    return JSONResponse({"prompts": answer.prompts, "degraded": answer.degraded})


@router.post(
    "/{prompt_id}/events",
    status_code=202,
    summary="Report what the user did with a prompt",
    responses={
        404: {"model": ErrorOut, "description": "Unknown, altered or expired prompt id"},
        503: {"model": ErrorOut, "description": "Storage unavailable; retry"},
    },
)
async def post_prompt_event(
    prompt_id: Annotated[str, Path(max_length=1024)],
    body: PromptEventIn,
    caller: AnyCaller,
    runtime: RuntimeDep,
    live: LiveRulesDep,
    now: NowDep,
) -> dict[str, str]:
    try:
        ref = runtime.codec.decode(prompt_id, now=now)
    except InvalidPromptId as exc:
        raise NotFound(f"{exc}; use an id from a recent GET /v1/prompts") from None
    caller.check_account(ref.account_id)
    caller.check_user(ref.user_id)
    await record_prompt_event(
        ref, body.type, rules=live.rules, sql=runtime.sql, counters=runtime.counters, now=now
    )
    runtime.metrics.prompt_events.labels(type=body.type).inc()
    return {"status": "accepted"}
