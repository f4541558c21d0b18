"""Prompt events reported by frontends: kept in SQL; a dismissal also starts the cooldown."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.engine import PromptEventType, RuleSet
from app.services.prompt_ids import PromptRef
from app.store.accounts import PromptEventRecord, SqlStore
from app.store.prompt_history import PromptHistory

# A trigger removed from the rules since its prompt was shown still hides for this long.
FALLBACK_COOLDOWN = timedelta(days=1)


async def record_prompt_event(
    ref: PromptRef,
    event_type: PromptEventType,
    *,
    prompt_digest: str,
    rules: RuleSet,
    sql: SqlStore,
    history: PromptHistory,
    now: datetime,
) -> None:
    trigger = rules.by_id.get(ref.trigger_id)

    async def mirror() -> None:
        if event_type == "dismissed":
            cooldown = trigger.cooldown if trigger else FALLBACK_COOLDOWN
            await history.dismiss(
                ref.account_id, ref.user_id, ref.trigger_id, at=now, cooldown=cooldown
            )
        elif event_type == "shown":
            await history.record_impression(
                ref.account_id,
                ref.user_id,
                trigger_id=ref.trigger_id,
                style=trigger.prompt.style if trigger and trigger.prompt else "",
                prompt_digest=prompt_digest,
                at=now,
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
    await sql.add_prompt_event(record, mirror=mirror)
