from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from app.api.auth import SecretCaller
from app.api.deps import LiveRulesDep, NowDep, RuntimeDep
from app.api.responses import BODY_ERRORS, V1_ERRORS
from app.api.schemas import AccountId, AccountIn, AccountOut

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], responses=V1_ERRORS)
AccountPath = Annotated[AccountId, Path(description="The account (workspace, org) id.")]


@router.put(
    "/{account_id}",
    response_model=AccountOut,
    response_model_exclude_unset=True,
    summary="Create or update an account",
    responses=BODY_ERRORS,
)
async def put_account(
    account_id: AccountPath,
    body: AccountIn,
    _caller: SecretCaller,
    runtime: RuntimeDep,
    live: LiveRulesDep,
    now: NowDep,
) -> dict[str, Any]:
    return await runtime.accounts.put(
        account_id, plan=body.plan, attributes=body.attributes, rules=live.rules, now=now
    )


@router.get(
    "/{account_id}",
    response_model=AccountOut,
    response_model_exclude_unset=True,
    summary="An account with its usage",
)
async def get_account(
    account_id: AccountPath,
    _caller: SecretCaller,
    runtime: RuntimeDep,
    live: LiveRulesDep,
    now: NowDep,
) -> dict[str, Any]:
    return await runtime.accounts.get(account_id, rules=live.rules, now=now)
