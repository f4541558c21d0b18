from __future__ import annotations

from fastapi import APIRouter

from app.api.auth import SecretCaller
from app.api.deps import UsageDep
from app.api.responses import BODY_ERRORS, V1_ERRORS
from app.api.schemas.usage import UsageBatchIn, UsageBatchOut
from app.services.usage import UsageEvent

router = APIRouter(prefix="/v1/usage", tags=["usage"], responses=V1_ERRORS)


@router.post(
    "",
    status_code=202,
    response_model=UsageBatchOut,
    summary="Report usage events (idempotent by event id)",
    responses=BODY_ERRORS,
)
async def post_usage(body: UsageBatchIn, _caller: SecretCaller, usage: UsageDep) -> UsageBatchOut:
    result = await usage.record(
        [
            UsageEvent(e.id, e.account_id, e.metric, float(e.value), e.op, e.timestamp)
            for e in body.events
        ]
    )
    return UsageBatchOut(accepted=result.accepted, duplicates=result.duplicates)
