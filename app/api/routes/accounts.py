from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request

from app.api.auth import SecretCaller
from app.api.deps import AccountsDep, ExplainDep
from app.api.query import openapi_parameters, parse_query
from app.api.responses import BODY_ERRORS, V1_ERRORS
from app.api.schemas.accounts import AccountIn, AccountOut
from app.api.schemas.common import AccountId
from app.api.schemas.explain import ExplainOut, ExplainQuery
from app.errors import InvalidRequest

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
    account_id: AccountPath, body: AccountIn, *, _caller: SecretCaller, accounts: AccountsDep
) -> AccountOut:
    return AccountOut.of(await accounts.put(account_id, plan=body.plan, attributes=body.attributes))


@router.get(
    "/{account_id}",
    response_model=AccountOut,
    response_model_exclude_unset=True,
    summary="An account with its usage",
)
async def get_account(
    account_id: AccountPath, _caller: SecretCaller, accounts: AccountsDep
) -> AccountOut:
    return AccountOut.of(await accounts.get(account_id))


async def _explain_query(_caller: SecretCaller, request: Request) -> ExplainQuery:
    # Depends on the caller so that credentials are checked before the query: a client
    # token gets its 403 whatever it asks. An unknown parameter is an error, so a typo
    # such as `user=` never explains the anonymous user instead.
    known = ExplainQuery.model_fields
    unknown = [name for name in request.query_params if name not in known]
    if unknown:
        takes = " and ".join(known)
        raise InvalidRequest(
            f'unknown query parameter "{unknown[0]}"; this route takes {takes}',
            details=[
                {"field": name, "message": f"is not a query parameter of this route; use {takes}"}
                for name in unknown
            ],
        )
    return parse_query(ExplainQuery, request)


@router.get(
    "/{account_id}/explain",
    response_model=ExplainOut,
    summary="Why each trigger shows to an account's user now, or not",
    description=(
        "Every trigger in display order, with where it stopped and why, in words: what "
        "GET /v1/prompts would answer for this account, user and placement at this moment."
    ),
    openapi_extra={"parameters": openapi_parameters(ExplainQuery)},
)
async def explain(
    account_id: AccountPath,
    query: Annotated[ExplainQuery, Depends(_explain_query)],
    *,
    explainer: ExplainDep,
) -> ExplainOut:
    explanation = await explainer.explain(
        account_id, user_id=query.user_id, placement=query.placement
    )
    return ExplainOut.of(explanation)
