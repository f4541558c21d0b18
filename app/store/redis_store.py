"""The Redis store, by key family, on one client: what the composition root builds once
and hands out family by family (each service takes the families it uses)."""

from __future__ import annotations

from dataclasses import dataclass

from app.store.account_mirror import AccountMirrors
from app.store.account_state import StateReader
from app.store.firing_marks import FiringMarks
from app.store.prompt_history import PromptHistory
from app.store.redis_client import RedisClient, StoreClient
from app.store.usage_counters import UsageCounters


@dataclass(frozen=True)
class RedisStore:
    client: StoreClient
    states: StateReader  # one account's state across the families, in one MGET
    usage: UsageCounters
    mirrors: AccountMirrors
    history: PromptHistory
    marks: FiringMarks

    @classmethod
    def on(cls, redis: RedisClient, *, budget_seconds: float, dedupe_ttl_hours: int) -> RedisStore:
        """The store on `redis`; `budget_seconds` bounds the prompt path's read."""
        client = StoreClient(redis, budget_seconds=budget_seconds)
        return cls(
            client=client,
            states=StateReader(client),
            usage=UsageCounters(client, dedupe_ttl_hours=dedupe_ttl_hours),
            mirrors=AccountMirrors(client),
            history=PromptHistory(client),
            marks=FiringMarks(client),
        )
