"""Readiness: whether this process can serve, for load balancers and orchestrators."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.rule_registry import RuleRegistry
from app.store.redis_client import StoreClient

# A readiness probe waits at least this long for Redis, even with a tighter prompt budget.
MIN_PING_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class Readiness:
    checks: dict[str, str]  # what was checked -> "ok" or what is wrong

    @property
    def ready(self) -> bool:
        return all(value == "ok" for value in self.checks.values())


@dataclass
class HealthService:
    redis: StoreClient
    rules: RuleRegistry
    ping_seconds: float  # the prompt path's Redis budget

    async def readiness(self) -> Readiness:
        """Redis answers a PING in time, and a rule set is loaded."""
        redis_ok = await self.redis.ping(timeout_seconds=max(self.ping_seconds, MIN_PING_SECONDS))
        return Readiness(
            {
                "redis": "ok" if redis_ok else "unreachable",
                "rules": "ok" if self.rules.loaded else "not loaded",
            }
        )
