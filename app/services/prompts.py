"""The prompt path: one Redis read, in-process evaluation, signed ids. Never fails the caller."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from app.clock import Clock
from app.engine import RenderedPrompt, evaluate
from app.errors import StoreUnavailable
from app.observability import Metrics
from app.services.prompt_ids import PromptIdCodec, PromptRef
from app.services.rule_registry import RulesSource
from app.store.account_state import StateReader

log = logging.getLogger(__name__)
DEGRADED_LOG_INTERVAL_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ServedPrompt:
    """A prompt as served: its signed id (for reporting events) and what it says."""

    id: str
    prompt: RenderedPrompt


@dataclass(frozen=True, slots=True)
class PromptAnswer:
    prompts: list[ServedPrompt]
    degraded: bool = False  # Redis was slow or down: no prompts, and the host page goes on


@dataclass
class PromptService:
    states: StateReader
    codec: PromptIdCodec
    rules: RulesSource
    metrics: Metrics
    clock: Clock
    _last_degraded_log: float = field(default=0.0, init=False)

    async def prompts_for(
        self, account_id: str, user_id: str | None, *, placement: str | None
    ) -> PromptAnswer:
        """What `user_id` of `account_id` sees now at `placement` (None: every placement)."""
        rules, now = self.rules.live.rules, self.clock()
        try:
            state = await self.states.read_state(account_id, user_id, rules=rules, now=now)
        except StoreUnavailable as exc:
            self.metrics.prompts_degraded.inc()
            self._log_degraded(exc)
            return PromptAnswer(prompts=[], degraded=True)
        evaluation = evaluate(rules, state, placement=placement, now=now, prompts_only=True)
        for decision in evaluation.decisions:
            if decision.outcome == "shadow":
                self.metrics.prompts_shadowed.labels(trigger=decision.trigger.id).inc()
        served = []
        for rendered in evaluation.prompts:
            prompt_id = self.codec.encode(PromptRef(account_id, user_id, rendered.trigger, now))
            served.append(ServedPrompt(prompt_id, rendered))
            self.metrics.prompts_served.labels(trigger=rendered.trigger).inc()
        return PromptAnswer(prompts=served)

    def _log_degraded(self, exc: StoreUnavailable) -> None:
        # Once per interval, not once per request: an outage must not flood the logs.
        moment = time.monotonic()
        if moment - self._last_degraded_log >= DEGRADED_LOG_INTERVAL_SECONDS:
            self._last_degraded_log = moment
            log.warning("serving prompts degraded (empty): %s", exc.message)
