from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from app.api.deps import RuntimeDep

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
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    redis_ok = await runtime.store.client.ping(
        timeout_seconds=max(runtime.settings.redis_timeout_seconds, 0.25)
    )
    checks = {
        "redis": "ok" if redis_ok else "unreachable",
        "rules": "ok" if runtime.registry.loaded else "not loaded",
    }
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(runtime: RuntimeDep) -> Response:
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
