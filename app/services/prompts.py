"""The prompt path: one Redis read, in-process evaluation, signed ids. Never fails the caller."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.engine import RenderedPrompt, RuleSet, evaluate, json_number
from app.errors import StoreUnavailable
from app.observability import Metrics
from app.services.prompt_ids import PromptIdCodec, PromptRef
from app.store.account_state import StateReader

log = logging.getLogger(__name__)
DEGRADED_LOG_INTERVAL_SECONDS = 10.0


@dataclass
class PromptAnswer:
    prompts: list[dict[str, Any]]
    degraded: bool = False


@dataclass
class PromptService:
    store: StateReader
    codec: PromptIdCodec
    metrics: Metrics
    _last_degraded_log: float = field(default=0.0, init=False)

    async def prompts_for(
        self,
        account_id: str,
        user_id: str | None,
        *,
        placement: str | None,
        rules: RuleSet,
        now: datetime,
    ) -> PromptAnswer:
        try:
            state = await self.store.read_state(account_id, user_id, rules, now=now)
        except StoreUnavailable as exc:
            self.metrics.prompts_degraded.inc()
            self._log_degraded(exc)
            return PromptAnswer(prompts=[], degraded=True)
        evaluation = evaluate(rules, state, placement=placement, now=now, prompts_only=True)
        for decision in evaluation.decisions:
            if decision.outcome == "shadow":
                self.metrics.prompts_shadowed.labels(trigger=decision.trigger.id).inc()
        prompts = []
        for rendered in evaluation.prompts:
            prompt_id = self.codec.encode(PromptRef(account_id, user_id, rendered.trigger, now))
            prompts.append(prompt_json(prompt_id, rendered))
            self.metrics.prompts_served.labels(trigger=rendered.trigger).inc()
        return PromptAnswer(prompts=prompts)

    def _log_degraded(self, exc: StoreUnavailable) -> None:
        # Once per interval, not once per request: an outage must not flood the logs.
        moment = time.monotonic()
        if moment - self._last_degraded_log >= DEGRADED_LOG_INTERVAL_SECONDS:
            self._last_degraded_log = moment
            log.warning("serving prompts degraded (empty): %s", exc.message)


def prompt_json(prompt_id: str, rendered: RenderedPrompt) -> dict[str, Any]:
    return {
        "id": prompt_id,
        "trigger": rendered.trigger,
        "metric": rendered.metric,
        "usage": json_number(rendered.usage),
        "limit": json_number(rendered.limit),
        "plan": rendered.plan,
        "upgrade_plan": rendered.upgrade_plan,
        "style": rendered.style,
        "title": rendered.title,
        "body": rendered.body,
        "cta": (
            {"label": rendered.cta_label, "url": rendered.cta_url}
            if rendered.cta_label is not None and rendered.cta_url is not None
            else None
        ),
    }
