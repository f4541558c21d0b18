"""What each user did with prompts, in Redis: dismissals (each held for its trigger's
cooldown) and the lists of prompts shown, the user's and the account's, which the
prompt path reads for `max_impressions` and caps.

All of it is bookkeeping Nudge can do without: a value that does not decode counts as
absent, and the next write replaces it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

from app.engine import Impression, RuleSet
from app.store import keys
from app.store.redis_client import StoreClient


class PromptHistory:
    def __init__(self, client: StoreClient) -> None:
        self._client = client
        self._record_impression = client.script("record_impression")

    async def dismiss(
        self,
        account_id: str,
        user_id: str | None,
        *,
        trigger_id: str,
        at: datetime,
        cooldown: timedelta,
    ) -> None:
        key = keys.dismissal_key(account_id, user_id, trigger_id=trigger_id)
        async with self._client.call("recording the dismissal") as redis:
            await redis.set(key, keys.ms(at), ex=keys.dismissal_ttl_seconds(cooldown))

    async def record_impression(
        self,
        account_id: str,
        user_id: str | None,
        *,
        impression: Impression,
        prompt_digest: str,
        rules: RuleSet,
    ) -> bool:
        """Add a shown prompt to the user's and the account's impression lists; False if
        this prompt (its `prompt_digest`) was recorded already. Each list keeps, within the
        horizon of the `rules`, the newest impressions of each style and of each trigger
        that their counts may need (keys.py says how many, and how long)."""
        async with self._client.call("recording the impression"):
            recorded = await self._record_impression(
                keys=[
                    keys.impressions_key(account_id, user_id),
                    keys.account_impressions_key(account_id),
                ],
                args=[
                    impression.trigger,
                    impression.style,
                    keys.ms(impression.at),
                    prompt_digest,
                    keys.impressions_horizon_ms(rules.impressions_horizon),
                    keys.impressions_kept(rules.impressions_kept),
                ],
            )
        return bool(recorded)


def dismissals_section(account_id: str, user_id: str | None, *, rules: RuleSet) -> dict[str, str]:
    """trigger id -> the key of the user's dismissal, for each trigger with a prompt."""
    return {
        trigger.id: keys.dismissal_key(account_id, user_id, trigger_id=trigger.id)
        for trigger in rules.triggers
        if trigger.prompt is not None
    }


def impressions_section(account_id: str, user_id: str | None, *, rules: RuleSet) -> dict[str, str]:
    """The impression lists the rules count: "user" (max_impressions, caps per user) and
    "account" (caps per account)."""
    section = {}
    if rules.reads_user_impressions:
        section["user"] = keys.impressions_key(account_id, user_id)
    if rules.reads_account_impressions:
        section["account"] = keys.account_impressions_key(account_id)
    return section


def decode_dismissals(values: Mapping[str, str | None]) -> dict[str, datetime]:
    """trigger id -> when the user dismissed it, where a dismissal is held."""
    return {trigger: at for trigger, raw in values.items() if (at := keys.time_of(raw)) is not None}


def decode_impressions(raw: str | None) -> list[Impression]:
    """The impression list, skipping whatever is not an entry Nudge wrote."""
    try:
        entries = json.loads(raw) if raw else []
    except (ValueError, RecursionError):
        return []
    if not isinstance(entries, list):  # Lua's cjson writes an empty list as {}
        return []
    found = []
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 4):
            continue
        trigger, style, at_ms, _digest = entry
        at = keys.time_of(at_ms) if isinstance(at_ms, int | float) else None
        if isinstance(trigger, str) and isinstance(style, str) and at is not None:
            found.append(Impression(trigger, style, at))
    return found
