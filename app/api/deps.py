"""The services routes get, as Annotated aliases: a route names the one it calls."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.observability import Metrics
from app.runtime import Runtime
from app.services.accounts import AccountService
from app.services.authentication import Authenticator
from app.services.explain import ExplainService
from app.services.health import HealthService
from app.services.prompt_events import PromptEventService
from app.services.rule_registry import RuleRegistry
from app.services.signal_feed import SignalFeed
from app.services.usage import UsageService


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _auth(request: Request) -> Authenticator:
    return runtime_of(request).auth


async def _accounts(request: Request) -> AccountService:
    return runtime_of(request).accounts


async def _explain(request: Request) -> ExplainService:
    return runtime_of(request).explain


async def _usage(request: Request) -> UsageService:
    return runtime_of(request).usage


async def _prompt_events(request: Request) -> PromptEventService:
    return runtime_of(request).prompt_events


async def _signals(request: Request) -> SignalFeed:
    return runtime_of(request).signals


async def _rules(request: Request) -> RuleRegistry:
    return runtime_of(request).rules


async def _health(request: Request) -> HealthService:
    return runtime_of(request).health


async def _metrics(request: Request) -> Metrics:
    return runtime_of(request).metrics


AuthDep = Annotated[Authenticator, Depends(_auth)]
AccountsDep = Annotated[AccountService, Depends(_accounts)]
ExplainDep = Annotated[ExplainService, Depends(_explain)]
UsageDep = Annotated[UsageService, Depends(_usage)]
PromptEventsDep = Annotated[PromptEventService, Depends(_prompt_events)]
SignalsDep = Annotated[SignalFeed, Depends(_signals)]
RulesDep = Annotated[RuleRegistry, Depends(_rules)]
HealthDep = Annotated[HealthService, Depends(_health)]
MetricsDep = Annotated[Metrics, Depends(_metrics)]
