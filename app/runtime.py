"""What one running app is made of, as the composition root (app/startup.py) built it.

Routes never see it whole: app/api/deps.py hands each route the one service it calls,
and the middlewares read the settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.observability import Metrics
from app.services.accounts import AccountService
from app.services.authentication import Authenticator
from app.services.explain import ExplainService
from app.services.health import HealthService
from app.services.prompt_events import PromptEventService
from app.services.prompts import PromptService
from app.services.rule_registry import RuleRegistry
from app.services.signal_feed import SignalFeed
from app.services.usage import UsageService
from app.settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    metrics: Metrics
    auth: Authenticator
    rules: RuleRegistry
    prompts: PromptService
    prompt_events: PromptEventService
    usage: UsageService
    accounts: AccountService
    explain: ExplainService
    signals: SignalFeed
    health: HealthService
