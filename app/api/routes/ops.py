from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import HealthDep, MetricsDep

router = APIRouter(tags=["ops"])


# HEAD too, for load balancers that probe with it (kept out of the OpenAPI document).
@router.get("/healthz", summary="Liveness: the process answers")
@router.head("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: Redis reachable and rules loaded",
    responses={503: {"description": "Not ready; `checks` says why"}},
)
@router.head("/readyz", include_in_schema=False)
async def readyz(health: HealthDep) -> JSONResponse:
    readiness = await health.readiness()
    return JSONResponse(
        {"status": "ready" if readiness.ready else "not ready", "checks": readiness.checks},
        status_code=200 if readiness.ready else 503,
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(metrics: MetricsDep) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
