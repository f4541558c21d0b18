"""The live rule set: loaded off to the side, swapped whole, never replaced by a broken one."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import anyio.to_thread

from app.clock import Clock
from app.engine import LoadResult, Problem, RuleSet, load_rules_dir
from app.errors import RulesInvalid
from app.observability import Metrics
from app.store.rule_versions import RuleFileDigest, RuleVersionRecord, RuleVersionStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveRules:
    rules: RuleSet
    loaded_at: datetime


class RulesSource(Protocol):
    """Where a service finds the rule set to use: read `live` once per call, and use that
    set to the end of it, so a swap never mixes two rule sets within one call."""

    @property
    def live(self) -> LiveRules: ...


@dataclass(frozen=True)
class FixedRules:
    """A rule set that never changes: what a CLI command loaded from a directory."""

    live: LiveRules


@dataclass(frozen=True)
class ReloadError:
    at: datetime
    message: str
    problems: tuple[Problem, ...]


class RuleRegistry:
    """Holds the compiled rule set that requests evaluate.

    Requests read `live` once and use that object to the end, so a swap never
    mixes two rule sets within one request. Each version that goes live is recorded
    in `versions` (when given); a database that does not answer is retried on the
    next reload and never fails one.
    """

    def __init__(
        self,
        rules_dir: Path,
        metrics: Metrics,
        *,
        clock: Clock,
        versions: RuleVersionStore | None = None,
    ) -> None:
        self.rules_dir = rules_dir
        self._metrics = metrics
        self._clock = clock
        self._versions = versions
        self._live: LiveRules | None = None
        self._recorded: set[str] = set()  # versions known to be in `versions`
        self._unrecorded: dict[str, RuleVersionRecord] = {}  # went live, not recorded yet
        # Reloads (API and file watcher) run one at a time, so an older load can never
        # be swapped in after a newer one.
        self._lock = asyncio.Lock()
        self.last_error: ReloadError | None = None

    @property
    def live(self) -> LiveRules:
        if self._live is None:
            raise RuntimeError("rules are not loaded yet")
        return self._live

    @property
    def loaded(self) -> bool:
        return self._live is not None

    async def reload(self, *, swap_unchanged: bool = True) -> LiveRules:
        """Load the rules directory and swap it in; on errors keep the live set and raise.

        With `swap_unchanged=False`, files whose content gives the live version again
        (a touch, an edit undone) leave the live set and its `loaded_at` as they are.
        """
        async with self._lock:
            live, digests = await self._load_and_swap(
                now=self._clock(), swap_unchanged=swap_unchanged
            )
        await self._record(live, digests)
        return live

    async def _load_and_swap(
        self, *, now: datetime, swap_unchanged: bool
    ) -> tuple[LiveRules, tuple[tuple[str, str], ...]]:
        result: LoadResult = await anyio.to_thread.run_sync(load_rules_dir, self.rules_dir)
        if result.rules is None:
            message = f"{len(result.problems)} error(s) in the rule files under {self.rules_dir}"
            self.last_error = ReloadError(at=now, message=message, problems=result.problems)
            self._metrics.rules_reloads.labels(result="failure").inc()
            self._metrics.rules_last_reload_success.set(0)
            if self._live is not None:  # a first load's problems are the caller's to report
                for problem in result.problems:
                    log.warning("rule reload rejected: %s", problem)
            raise RulesInvalid(
                message + "; the last good rule set stays live",
                details=[p.as_detail() for p in result.problems],
            )
        self.last_error = None
        self._metrics.rules_reloads.labels(result="success").inc()
        self._metrics.rules_last_reload_success.set(1)
        current = self._live
        if current and not swap_unchanged and current.rules.version == result.rules.version:
            log.info("rules %s unchanged: the live set stays", current.rules.version)
            return current, result.file_digests
        if current is None or current.rules.version != result.rules.version:
            # Warnings never block a rule set; each is logged once, when its version loads.
            for warning in result.warnings:
                log.warning("rules %s: %s", result.rules.version, warning)
        self._live = LiveRules(rules=result.rules, loaded_at=now)
        self._metrics.set_rules_version(result.rules.version)
        log.info("rules %s live: %d triggers", result.rules.version, len(result.rules.triggers))
        return self._live, result.file_digests

    async def _record(self, live: LiveRules, digests: tuple[tuple[str, str], ...]) -> None:
        """Record the live version, and any earlier one the database missed, oldest first."""
        if self._versions is None:
            return
        version = live.rules.version
        if version not in self._recorded and version not in self._unrecorded:
            self._unrecorded[version] = RuleVersionRecord(
                version=version,
                files=tuple(RuleFileDigest(path=path, sha256=sha) for path, sha in digests),
                triggers=len(live.rules.triggers),
                loaded_at=live.loaded_at,
            )
        for pending in list(self._unrecorded.values()):
            try:
                await self._versions.record(pending)
            except Exception as exc:  # never fail a reload (or start-up) over the record
                log.warning(
                    "rules %s went live but could not be recorded in the database (%s); "
                    "retrying on the next reload",
                    pending.version,
                    exc,
                )
                return
            self._unrecorded.pop(pending.version, None)
            self._recorded.add(pending.version)
