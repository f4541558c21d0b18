"""The composition root: what a running service is made of, built once, in one place.

`start(settings, ...)` checks the credentials, starts Redis (the embedded one when no
REDIS_URL), opens the database, loads the rules once and builds the services; the
app's lifespan calls it, whether `nudge serve` or plain `uvicorn app.main:app` runs
the app. A start that cannot go ahead raises `StartupError`, whose `report()` is what
the terminal shows: rule errors exactly as `nudge rules check` prints them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Engine

from app.clock import Clock
from app.embedded_redis import EmbeddedRedis
from app.engine import Problem, report_problems
from app.errors import RulesInvalid
from app.observability import Metrics
from app.runtime import Runtime
from app.services.accounts import AccountService
from app.services.authentication import Authenticator
from app.services.explain import ExplainService
from app.services.firing import FiringTracker
from app.services.health import HealthService
from app.services.prompt_events import PromptEventService
from app.services.prompt_ids import PromptIdCodec
from app.services.prompts import PromptService
from app.services.rule_registry import RuleRegistry
from app.services.rule_watcher import watching_rules
from app.services.signal_feed import SignalFeed
from app.services.usage import UsageService
from app.settings import Settings, load_settings
from app.store import database
from app.store.accounts import SqlStore
from app.store.redis_client import create_redis
from app.store.redis_store import RedisStore
from app.store.rule_versions import RuleVersionStore
from app.store.signals import SignalStore

log = logging.getLogger("nudge")

# Non-prompt Redis calls (usage writes, account reads) get this budget; the prompt
# path has its own, much tighter one (NUDGE_REDIS_TIMEOUT_MS).
STORE_TIMEOUT_SECONDS = 2.0
# Exit codes of a refused start, as the CLI's: 1 invalid rules, 2 bad settings.
INVALID_RULES, BAD_SETTINGS = 1, 2


class StartupError(RuntimeError):
    """The service cannot start as configured; the message says what to change."""

    exit_code = BAD_SETTINGS

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def report(self) -> str:
        """What the terminal shows."""
        return f"nudge: refusing to start: {self.message}"


class RulesRefused(StartupError):
    """The rule files have errors; each is reported as `nudge rules check` reports it."""

    exit_code = INVALID_RULES

    def __init__(self, problems: Sequence[Problem], rules_dir: Path) -> None:
        super().__init__(f"{len(problems)} error(s) in the rule files in {rules_dir}")
        self.problems = tuple(problems)

    def report(self) -> str:
        return f"{report_problems(self.problems)}\n{super().report()}"


def settings_or_refuse() -> Settings:
    """Settings from the environment; a bad value refuses the start, naming the variable."""
    try:
        return load_settings()
    except ValidationError as exc:
        bad = "; ".join(
            f"setting {error['loc'][0]}: {error['msg']}" for error in exc.errors(include_url=False)
        )
        raise StartupError(bad) from None


async def start(
    settings: Settings,
    *,
    clock: Clock,
    metrics: Metrics,
    stack: AsyncExitStack,
    base_url: str | None,
) -> Runtime:
    """Build the running service; what it opens is closed when `stack` unwinds.

    What can refuse the start comes first (credentials, the database's migration, the
    rules), so a refused start leaves no Redis started behind it."""
    credentials = _credentials(settings)

    engine = database.create_database_engine(settings.database_url)
    stack.callback(engine.dispose)
    _prepare_database(engine)

    registry = RuleRegistry(
        settings.rules_dir, metrics, clock=clock, versions=RuleVersionStore(engine)
    )
    if settings.rules_watch:
        # Every process (each uvicorn worker) watches for itself, so all pick up an edit.
        # Watching starts before the first load, so no edit can slip in between.
        await stack.enter_async_context(
            watching_rules(registry, debounce_ms=settings.rules_debounce_ms)
        )
    try:
        await registry.reload()
    except RulesInvalid:
        assert registry.last_error is not None
        raise RulesRefused(registry.last_error.problems, settings.rules_dir) from None

    redis_url = settings.redis_url
    if redis_url is None:
        embedded = EmbeddedRedis(settings.data_dir)
        redis_url = embedded.start()
        stack.callback(embedded.stop)
        # Registered after stop, so it is cancelled first and never restarts a stopped server.
        await _run_in_background(stack, embedded.supervise(), name="nudge-embedded-redis")
        log.info("embedded redis-server on %s, data in %s", redis_url, embedded.data_dir)
    redis = create_redis(
        redis_url, cluster=settings.redis_cluster, timeout_seconds=STORE_TIMEOUT_SECONDS
    )
    stack.push_async_callback(redis.aclose)

    store = RedisStore.on(
        redis,
        budget_seconds=settings.redis_timeout_seconds,
        dedupe_ttl_hours=settings.dedupe_ttl_hours,
    )
    if credentials.generated_key or credentials.generated_secret:
        _announce(credentials, base_url=base_url, data_dir=settings.data_dir)
    return _services(
        settings,
        credentials,
        store=store,
        engine=engine,
        rules=registry,
        metrics=metrics,
        clock=clock,
    )


def _services(  # noqa: PLR0913 the composition root: every port meets here, each by name
    settings: Settings,
    credentials: _Credentials,
    *,
    store: RedisStore,
    engine: Engine,
    rules: RuleRegistry,
    metrics: Metrics,
    clock: Clock,
) -> Runtime:
    """Each service with the ports it uses, and nothing else."""
    sql = SqlStore(engine)
    signals = SignalFeed(SignalStore(engine))
    firing = FiringTracker(store.states, store.marks, signals.store, metrics)
    codec = PromptIdCodec(credentials.signing_secret)
    return Runtime(
        settings=settings,
        metrics=metrics,
        auth=Authenticator(
            settings,
            api_keys=credentials.api_keys,
            signing_secret=credentials.signing_secret,
            clock=clock,
        ),
        rules=rules,
        prompts=PromptService(store.states, codec, rules, metrics, clock),
        prompt_events=PromptEventService(sql, store.history, codec, rules, metrics, clock),
        usage=UsageService(store.usage, firing, rules, metrics, clock),
        accounts=AccountService(sql, store.mirrors, store.states, signals, firing, rules, clock),
        explain=ExplainService(store.states, rules, clock),
        signals=signals,
        health=HealthService(store.client, rules, ping_seconds=settings.redis_timeout_seconds),
    )


async def _run_in_background(
    stack: AsyncExitStack, work: Coroutine[Any, Any, None], *, name: str
) -> None:
    """Run `work` as a task until the stack unwinds, then cancel it and wait for it."""
    task = asyncio.create_task(work, name=name)

    async def cancel() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(cancel)


@dataclass(frozen=True)
class _Credentials:
    api_keys: tuple[str, ...]
    signing_secret: str
    generated_key: str | None  # set only when generated here, to be printed once
    generated_secret: str | None


def _credentials(settings: Settings) -> _Credentials:
    """Keys and secret from settings; what is missing is generated (embedded default only)."""
    problem = settings.credentials_problem()
    if problem:
        raise StartupError(problem)
    keys = tuple(key.get_secret_value() for key in settings.api_keys)
    secret = settings.signing_secret.get_secret_value() if settings.signing_secret else None
    generated_key = None if keys else secrets.token_urlsafe(32)
    generated_secret = None if secret else secrets.token_urlsafe(48)
    return _Credentials(
        api_keys=keys or (str(generated_key),),
        signing_secret=secret or str(generated_secret),
        generated_key=generated_key,
        generated_secret=generated_secret,
    )


def _prepare_database(engine: Engine) -> None:
    if database.is_sqlite(engine):
        database.upgrade(engine)
        return
    current, head = database.current_revision(engine), database.head_revision(engine)
    if current != head:
        raise StartupError(
            f"the database is at migration {current or '(none)'}, this version needs {head}: "
            "run `nudge db upgrade` first"
        )


def _announce(credentials: _Credentials, *, base_url: str | None, data_dir: Path) -> None:
    """Print what was generated once, to the terminal only (never to the logs)."""
    url = base_url or "http://127.0.0.1:8000"
    auth = '-H "Authorization: Bearer $NUDGE_KEY"'
    key = credentials.generated_key or "<one of NUDGE_API_KEYS>"
    lines = [
        "",
        "Nudge is running on the embedded default "
        f"(its own redis-server, SQLite under {data_dir}/).",
        "Generated for this run only (set NUDGE_API_KEYS and NUDGE_SIGNING_SECRET to keep them):",
    ]
    if credentials.generated_key:
        lines.append(f"  secret key:     {credentials.generated_key}")
    if credentials.generated_secret:
        lines.append(f"  signing secret: {credentials.generated_secret}")
    lines += [
        "",
        "Try it:",
        f"  export NUDGE_URL={url} NUDGE_KEY={key}",
        f'  curl -s -X PUT "$NUDGE_URL/v1/accounts/acme" {auth} '
        + "-H 'Content-Type: application/json' -d '{\"plan\": \"free\"}'",
        f'  curl -s "$NUDGE_URL/v1/prompts?account_id=acme" {auth}',
        f"  API docs: {url}/docs",
        "",
    ]
    print("\n".join(lines), flush=True)
