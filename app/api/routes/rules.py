from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.auth import SecretCaller
from app.api.deps import NowDep, RuntimeDep
from app.api.responses import V1_ERRORS
from app.api.schemas import ErrorOut, ReloadOut, RulesOut
from app.engine import describe_rules

router = APIRouter(prefix="/v1/rules", tags=["rules"], responses=V1_ERRORS)


@router.get("", response_model=RulesOut, summary="The live rule set and the last reload error")
async def get_rules(_caller: SecretCaller, runtime: RuntimeDep) -> dict[str, Any]:
    registry = runtime.registry
    live = registry.live
    described = describe_rules(live.rules)
    error = registry.last_error
    return {
        **described,
        "loaded_at": live.loaded_at,
        "last_error": (
            {
                "at": error.at,
                "message": error.message,
                "details": [p.as_detail() for p in error.problems],
            }
            if error
            else None
        ),
    }


@router.post(
    "/reload",
    response_model=ReloadOut,
    summary="Reload the rule files; on errors the last good set stays live",
    responses={
        422: {"model": ErrorOut, "description": "Every rule error, with file, line and column"}
    },
)
async def reload_rules(_caller: SecretCaller, runtime: RuntimeDep, now: NowDep) -> ReloadOut:
    live = await runtime.registry.reload(now=now)
    return ReloadOut(version=live.rules.version, loaded_at=live.loaded_at)
