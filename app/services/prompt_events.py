"""Prompt events reported by frontends: kept in SQL; a dismissal also starts the cooldown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from app.clock import Clock
from app.engine import Impression, PromptEventType, RuleSet
from app.errors import NotFound
from app.observability import Metrics
from app.services.authentication import Caller
from app.services.prompt_ids import InvalidPromptId, PromptIdCodec, PromptRef, prompt_digest
from app.services.rule_registry import RulesSource
from app.store.accounts import PromptEventRecord, SqlStore
from app.store.prompt_history import PromptHistory

# A trigger removed from the rules since its prompt was shown still hides for this long.
FALLBACK_COOLDOWN = timedelta(days=1)


@dataclass
class PromptEventService:
    sql: SqlStore
    history: PromptHistory
    codec: PromptIdCodec
    rules: RulesSource
    metrics: Metrics
    clock: Clock

    async def record(self, prompt_id: str, event_type: PromptEventType, *, caller: Caller) -> None:
        """Keep what `caller` reports of a prompt it was served. 404 for an id this
        service did not issue (or older than 7 days); 403 for another account's or user's."""
        rules, now = self.rules.live.rules, self.clock()
        try:
            ref = self.codec.decode(prompt_id, now=now)
        except InvalidPromptId as exc:
            raise NotFound(f"{exc}; use an id from a recent GET /v1/prompts") from None
        caller.check_account(ref.account_id)
        caller.check_user(ref.user_id)
        await self._record(ref, event_type, digest=prompt_digest(prompt_id), rules=rules, now=now)
        self.metrics.prompt_events.labels(type=event_type).inc()

    async def _record(
        self,
        ref: PromptRef,
        event_type: PromptEventType,
        *,
        digest: str,
        rules: RuleSet,
        now: datetime,
    ) -> None:
        trigger = rules.by_id.get(ref.trigger_id)

        async def mirror() -> None:
            if event_type == "dismissed":
                cooldown = trigger.cooldown if trigger else FALLBACK_COOLDOWN
                await self.history.dismiss(
                    ref.account_id,
                    ref.user_id,
                    trigger_id=ref.trigger_id,
                    at=now,
                    cooldown=cooldown,
                )
            elif event_type == "shown":
                await self.history.record_impression(
                    ref.account_id,
                    ref.user_id,
                    impression=Impression(
                        trigger=ref.trigger_id,
                        style=trigger.prompt.style if trigger and trigger.prompt else "",
                        at=now,
                    ),
                    prompt_digest=digest,
                    rules=rules,
                )

        record = PromptEventRecord(
            account_id=ref.account_id,
            user_id=ref.user_id,
            trigger_id=ref.trigger_id,
            type=event_type,
            prompt_issued_at=ref.issued_at,
            created_at=now,
        )
        await self.sql.add_prompt_event(record, mirror=mirror)
