from __future__ import annotations

from fastapi import APIRouter

from app.api.auth import SecretCaller
from app.api.deps import LiveRulesDep, NowDep, RuntimeDep
from app.api.responses import BODY_ERRORS, V1_ERRORS
from app.api.schemas import UsageBatchIn, UsageBatchOut
from app.services.usage import UsageEvent, record_usage

router = APIRouter(prefix="/v1/usage", tags=["usage"], responses=V1_ERRORS)


@router.post(
    "",
    status_code=202,
    response_model=UsageBatchOut,
    summary="Report usage events (idempotent by event id)",
    responses=BODY_ERRORS,
)
async def post_usage(
    body: UsageBatchIn, _caller: SecretCaller, runtime: RuntimeDep, live: LiveRulesDep, now: NowDep
) -> UsageBatchOut:
    events = [
        UsageEvent(e.id, e.account_id, e.metric, float(e.value), e.op, e.timestamp)
        for e in body.events
    ]
    result = await record_usage(events, rules=live.rules, store=runtime.store.usage, now=now)
    await runtime.firing.settle({e.account_id for e in events}, rules=live.rules, now=now)
    runtime.metrics.usage_events.labels(result="accepted").inc(result.accepted)
    runtime.metrics.usage_events.labels(result="duplicate").inc(result.duplicates)
    return UsageBatchOut(accepted=result.accepted, duplicates=result.duplicates)
