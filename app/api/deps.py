"""Dependencies of the routes, as Annotated aliases."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request

from app.runtime import Runtime
from app.services.rule_registry import LiveRules


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_live_rules(runtime: RuntimeDep) -> LiveRules:
    """The rule set this request uses from start to end, even if a reload swaps it meanwhile."""
    return runtime.registry.live


async def get_now(runtime: RuntimeDep) -> datetime:
    return runtime.clock()


LiveRulesDep = Annotated[LiveRules, Depends(get_live_rules)]
NowDep = Annotated[datetime, Depends(get_now)]
