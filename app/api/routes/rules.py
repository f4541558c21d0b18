from __future__ import annotations

from fastapi import APIRouter

from app.api.auth import SecretCaller
from app.api.deps import RulesDep
from app.api.responses import V1_ERRORS
from app.api.schemas.common import ErrorOut
from app.api.schemas.rules import ReloadOut, RulesOut

router = APIRouter(prefix="/v1/rules", tags=["rules"], responses=V1_ERRORS)


@router.get("", response_model=RulesOut, summary="The live rule set and the last reload error")
async def get_rules(_caller: SecretCaller, rules: RulesDep) -> RulesOut:
    return RulesOut.of(rules.live, rules.last_error)


@router.post(
    "/reload",
    response_model=ReloadOut,
    summary="Reload the rule files; on errors the last good set stays live",
    responses={
        422: {"model": ErrorOut, "description": "Every rule error, with file, line and column"}
    },
)
async def reload_rules(_caller: SecretCaller, rules: RulesDep) -> ReloadOut:
    return ReloadOut.of(await rules.reload())
