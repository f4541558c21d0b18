"""The naive peer of the prompt endpoint, for bench/prompts_vs_peer.py.

A one-file FastAPI app that does the least a prompt endpoint must do: for
`GET /v1/prompts?account_id=...&user_id=...` it reads the same keys Nudge reads
(the plan mirror, each metric's current key, the user's dismissal key of every
trigger) in one MGET with redis-py asyncio, and returns them as JSON. No auth, no
validation beyond FastAPI's own, no rule evaluation, no metrics, no signed ids:
whatever Nudge costs beyond this is the price of what it does on top.

It takes the key layout from app/store/keys.py and the metric/trigger list from
the rule files (loaded once at start), so both servers read byte-for-byte the
same keys. Settings from the environment: REDIS_URL, NUDGE_RULES_DIR.

Run: uvicorn peer_app:app --app-dir bench (the benchmark starts it itself).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from redis.asyncio import Redis

from app.engine import load_rules_dir, window_id
from app.store import keys

_state: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    result = load_rules_dir(os.environ.get("NUDGE_RULES_DIR", "rules"))
    if result.rules is None:
        raise RuntimeError(f"peer: invalid rules: {result.problems}")
    _state["metrics"] = [(m.name, m.window) for m in result.rules.metrics.values()]
    _state["triggers"] = [t.id for t in result.rules.triggers]
    # The same client options as Nudge's app/store/redis_client.py.
    redis = Redis.from_url(
        os.environ["REDIS_URL"],
        decode_responses=True,
        socket_connect_timeout=2.0,
        socket_timeout=2.0,
        health_check_interval=0,
    )
    _state["redis"] = redis
    yield
    await redis.aclose()


app = FastAPI(title="naive peer", lifespan=lifespan)


@app.get("/v1/prompts")
async def prompts(account_id: str, user_id: str | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    metrics: list[tuple[str, Any]] = _state["metrics"]
    triggers: list[str] = _state["triggers"]
    metric_keys = [
        keys.gauge_key(account_id, name)
        if window is None
        else keys.counter_key(account_id, name, window_id=window_id(window, now))
        for name, window in metrics
    ]
    dismissal_keys = [keys.dismissal_key(account_id, user_id, trigger_id=t) for t in triggers]
    values = await _state["redis"].mget(
        [keys.account_key(account_id), *metric_keys, *dismissal_keys]
    )
    usage = values[1 : 1 + len(metrics)]
    dismissed = values[1 + len(metrics) :]
    return {
        "account": values[0],
        "usage": {name: value for (name, _), value in zip(metrics, usage, strict=True)},
        "dismissed": {t: value for t, value in zip(triggers, dismissed, strict=True)},
    }


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
