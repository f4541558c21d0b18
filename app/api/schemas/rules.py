"""The bodies of GET /v1/rules and POST /v1/rules/reload."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from app.engine import describe_rules
from app.services.rule_registry import LiveRules, ReloadError


class RuleErrorOut(BaseModel):
    at: datetime
    message: str
    details: list[dict[str, Any]]


class RulesOut(BaseModel):
    version: str
    loaded_at: datetime
    default_plan: str
    metrics: dict[str, Any]
    plans: dict[str, Any]
    triggers: list[dict[str, Any]]
    caps: list[dict[str, Any]] = Field(
        description="The rule set's frequency caps: key (a style or any), count, per_seconds, scope"
    )
    last_error: RuleErrorOut | None

    @classmethod
    def of(cls, live: LiveRules, last_error: ReloadError | None) -> RulesOut:
        error = None
        if last_error is not None:
            details = [problem.as_detail() for problem in last_error.problems]
            error = RuleErrorOut(at=last_error.at, message=last_error.message, details=details)
        return cls(**describe_rules(live.rules), loaded_at=live.loaded_at, last_error=error)


class ReloadOut(BaseModel):
    version: str
    loaded_at: datetime

    @classmethod
    def of(cls, live: LiveRules) -> ReloadOut:
        return cls(version=live.rules.version, loaded_at=live.loaded_at)
