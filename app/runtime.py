"""What one running app holds: stores, live rules and services, built by the lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from app.clock import Clock
from app.observability import Metrics
from app.services.accounts import AccountService
from app.services.authentication import Authenticator
from app.services.firing import FiringTracker
from app.services.prompt_ids import PromptIdCodec
from app.services.prompts import PromptService
from app.services.rule_registry import RuleRegistry
from app.settings import Settings
from app.store.accounts import SqlStore
from app.store.redis_store import RedisStore
from app.store.signals import SignalStore


@dataclass
class Runtime:
    settings: Settings
    auth: Authenticator
    clock: Clock
    metrics: Metrics
    registry: RuleRegistry
    store: RedisStore
    sql: SqlStore
    signals: SignalStore
    firing: FiringTracker
    codec: PromptIdCodec
    prompts: PromptService
    accounts: AccountService
