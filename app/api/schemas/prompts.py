"""The bodies of GET /v1/prompts and POST /v1/prompts/{prompt_id}/events."""

from __future__ import annotations

from pydantic import BaseModel, Field

from app.api.schemas.common import AccountId, Body, UserId
from app.engine import PromptEventType, PromptStyle


class CtaOut(BaseModel):
    label: str
    url: str


class PromptOut(BaseModel):
    id: str = Field(description="Opaque and signed; report events with it for 7 days.")
    trigger: str
    metric: str | None = Field(description="Null for a trigger with only a `when:` condition.")
    usage: int | float | None = Field(description="The metric's usage; null without a metric.")
    limit: int | float | None
    plan: str
    upgrade_plan: str | None
    style: PromptStyle
    title: str
    body: str | None
    cta: CtaOut | None


class PromptsOut(BaseModel):
    prompts: list[PromptOut]
    degraded: bool = Field(
        default=False,
        description="True when Redis was slow or down: no prompts, and the host page goes on.",
    )


class PromptQuery(BaseModel):
    """The query of GET /v1/prompts (unknown parameters, such as cache busters, are ignored)."""

    account_id: AccountId | None = Field(
        default=None, description="Required with a secret key; a client token decides it."
    )
    user_id: UserId | None = Field(
        default=None, description="Omit for the account's anonymous user."
    )
    placement: str | None = Field(
        default=None, min_length=1, max_length=64, description="Where the prompt would show."
    )


class PromptEventIn(Body):
    type: PromptEventType
