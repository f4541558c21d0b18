"""The live rule set: loaded off to the side, swapped whole, never replaced by a broken one."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import anyio.to_thread

from app.engine.loader import LoadResult, load_rules_dir
from app.engine.model import RuleSet
from app.engine.problems import Problem
from app.errors import RulesInvalid
from app.observability import Metrics

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveRules:
    rules: RuleSet
    loaded_at: datetime


@dataclass(frozen=True)
class ReloadError:
    at: datetime
    message: str
    problems: tuple[Problem, ...]


class RuleRegistry:
    """Holds the compiled rule set that requests evaluate.

    Requests read `live` once and use that object to the end, so a swap never
    mixes two rule sets within one request.
    """

    def __init__(self, rules_dir: Path, metrics: Metrics) -> None:
        self.rules_dir = rules_dir
        self._metrics = metrics
        self._live: LiveRules | None = None
        self.last_error: ReloadError | None = None

    @property
    def live(self) -> LiveRules:
        if self._live is None:
            raise RuntimeError("rules are not loaded yet")
        return self._live

    @property
    def loaded(self) -> bool:
        return self._live is not None

    async def reload(self, *, now: datetime) -> LiveRules:
        """Load the rules directory and swap it in; on errors keep the live set and raise."""
        result: LoadResult = await anyio.to_thread.run_sync(load_rules_dir, self.rules_dir)
        if result.rules is None:
            message = f"{len(result.problems)} error(s) in the rule files under {self.rules_dir}"
            self.last_error = ReloadError(at=now, message=message, problems=result.problems)
            self._metrics.rules_reloads.labels(result="failure").inc()
            self._metrics.rules_last_reload_success.set(0)
            for problem in result.problems:
                log.warning("rule reload rejected: %s", problem)
            raise RulesInvalid(
                message + "; the last good rule set stays live",
                details=[p.as_detail() for p in result.problems],
            )
        self._live = LiveRules(rules=result.rules, loaded_at=now)
        self.last_error = None
        self._metrics.rules_reloads.labels(result="success").inc()
        self._metrics.rules_last_reload_success.set(1)
        self._metrics.set_rules_version(result.rules.version)
        log.info("rules %s live: %d triggers", result.rules.version, len(result.rules.triggers))
        return self._live
