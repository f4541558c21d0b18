"""Hot reload: watch the rules directory and reload the registry when rule files change.

Each process (every uvicorn worker, every replica) runs its own watcher over the same
files, so all of them pick up an edit without being addressed one by one. Edits come
in bursts (an editor's save, a `git pull`): the reload waits until the files have
been quiet for the debounce time, then validates off to the side and swaps; a
broken edit leaves the last good set live (the registry keeps it and its error).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import stat
from collections.abc import AsyncIterator
from pathlib import Path

from watchfiles import Change, awatch

from app.engine import CONFIGMAP_DATA, is_rule_file_name
from app.errors import RulesInvalid
from app.services.rule_registry import RuleRegistry

log = logging.getLogger(__name__)

# How often the file watcher's thread looks at its stop flag and how long it groups
# raw file events; the debounce proper (the quiet period) is applied on top of it.
WATCH_STEP_MS = 50
WATCH_BATCH_MS = 1_000
# The watch thread comes back this often without events; the first time tells that
# the directory is being watched.
WATCH_TIMEOUT_MS = 100
READY_TIMEOUT_SECONDS = 5.0
# A directory that cannot be watched (missing, unreadable) is tried again this often.
RETRY_SECONDS = 1.0
# Edits that never pause still reload at least this many debounce periods apart.
MAX_DEFER = 20


class RuleWatcher:
    """Reloads `registry` after the rule files under its directory change."""

    def __init__(self, registry: RuleRegistry, *, debounce_ms: int) -> None:
        self._registry = registry
        self._root = Path(registry.rules_dir).absolute()
        self._debounce = debounce_ms / 1000
        self._stop = asyncio.Event()
        self._dirty = asyncio.Event()
        self.ready = asyncio.Event()  # set once watching (or once it failed to start)
        self._first_change = 0.0
        self._last_change = 0.0
        self._failing = False  # watching failed: warn once, not every RETRY_SECONDS
        self.reloads = 0  # reloads attempted after file changes (for tests and logs)

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Watch and reload until `stop()`; no error ends it."""
        applier = asyncio.create_task(self._apply_changes(), name="nudge-rules-reload")
        try:
            await self._watch()
        finally:
            applier.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await applier

    async def _watch(self) -> None:
        lost = False  # the directory was gone or replaced: reload once it is watched again
        while not self._stop.is_set():
            identity = self._identity()
            if identity is None:
                if not lost:
                    log.warning("rules directory %s is gone; the last good rules stay", self._root)
                lost = True
            else:
                if lost:
                    log.info("watching the rules directory %s again", self._root)
                    self._changed()
                lost = await self._watch_until_lost(identity)
            self.ready.set()  # not watching, but start-up must not wait for it
            if lost and self._identity() is not None:
                continue  # replaced: watch the new one at once
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), RETRY_SECONDS)

    async def _watch_until_lost(self, identity: tuple[int, int]) -> bool:
        """Watch the directory `identity` names: True once it is removed or replaced, False
        on stop() or when watching fails (warned about once, until watching works again)."""
        try:
            async for changes in awatch(
                self._root,
                watch_filter=self._is_rule_file,
                debounce=WATCH_BATCH_MS,
                step=WATCH_STEP_MS,
                stop_event=self._stop,
                rust_timeout=WATCH_TIMEOUT_MS,
                yield_on_timeout=True,  # an empty batch: the watch thread checking in
            ):
                self.ready.set()
                self._failing = False
                if changes:
                    self._changed()
                if self._identity() != identity:
                    # Removed or replaced (a symlink swapped, say): the watch went with the
                    # old directory.
                    return True
        except Exception as exc:
            if not self._failing:
                log.warning("cannot watch the rules directory %s: %s", self._root, exc)
            self._failing = True
        return False

    def _identity(self) -> tuple[int, int] | None:
        """Which directory the path names now, or None if none."""
        try:
            found = self._root.stat()
        except OSError:
            return None
        return (found.st_dev, found.st_ino) if stat.S_ISDIR(found.st_mode) else None

    def _is_rule_file(self, _change: Change, path: str) -> bool:
        candidate = Path(path)
        if candidate == self._root:
            return True
        try:
            relative = candidate.relative_to(self._root)
        except ValueError:
            return True
        # A ConfigMap update swaps the `..data` symlink that every visible file goes through.
        return relative == Path(CONFIGMAP_DATA) or is_rule_file_name(relative)

    def _changed(self) -> None:
        now = asyncio.get_running_loop().time()
        if not self._dirty.is_set():
            self._first_change = now
        self._last_change = now
        self._dirty.set()

    async def _apply_changes(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._dirty.wait()
            while True:
                now = loop.time()
                quiet_until = self._last_change + self._debounce
                latest = self._first_change + MAX_DEFER * self._debounce
                if now >= min(quiet_until, latest):
                    break
                await asyncio.sleep(min(quiet_until, latest) - now)
            self._dirty.clear()
            await self._reload()

    async def _reload(self) -> None:
        self.reloads += 1
        try:
            live = await self._registry.reload(swap_unchanged=False)
        except RulesInvalid as exc:
            # The registry logged each problem and keeps the last good set live.
            log.warning("rule files changed: %s", exc.message)
        except Exception:
            log.exception("reloading the rules after a file change failed")
        else:
            log.info("rule files changed: rules %s live", live.rules.version)


@contextlib.asynccontextmanager
async def watching_rules(registry: RuleRegistry, *, debounce_ms: int) -> AsyncIterator[RuleWatcher]:
    """Run a `RuleWatcher` in the background for the duration of the block.

    The block starts once the directory is watched: an edit made after that is seen.
    """
    watcher = RuleWatcher(registry, debounce_ms=debounce_ms)
    task = asyncio.create_task(watcher.run(), name="nudge-rules-watch")
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watcher.ready.wait(), READY_TIMEOUT_SECONDS)
        yield watcher
    finally:
        watcher.stop()
        # The watch thread sees the stop flag within WATCH_STEP_MS.
        try:
            await task
        except Exception:
            log.exception("the rules watcher failed")
