"""Usage batches: validated whole against the live rules, then applied per account."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.clock import Clock
from app.engine import RuleSet, UsageOp
from app.errors import InvalidRequest
from app.observability import Metrics
from app.services.firing import FiringTracker
from app.services.rule_registry import RulesSource
from app.store.keys import MAX_EVENT_AGE
from app.store.usage_counters import UsageCounters, UsageWrite

MAX_FUTURE = timedelta(minutes=5)
MAX_ABS_VALUE = 1e15  # beyond this, float counters lose whole-number precision


@dataclass(frozen=True, slots=True)
class UsageEvent:
    id: str
    account_id: str
    metric: str
    value: float
    op: UsageOp
    timestamp: datetime | None


@dataclass(frozen=True, slots=True)
class UsageResult:
    accepted: int
    duplicates: int


@dataclass
class UsageService:
    counters: UsageCounters
    firing: FiringTracker
    rules: RulesSource
    metrics: Metrics
    clock: Clock

    async def record(self, events: Sequence[UsageEvent]) -> UsageResult:
        """Validate every event, then apply them; one bad event applies nothing. Then
        settle what fires for the accounts the batch changed (marks, signals)."""
        rules, now = self.rules.live.rules, self.clock()
        writes: dict[str, list[UsageWrite]] = defaultdict(list)
        problems: list[dict[str, object]] = []
        for index, event in enumerate(events):
            write = _resolve(event, index, rules=rules, now=now, problems=problems)
            if write is not None:
                writes[event.account_id].append(write)
        if problems:
            raise InvalidRequest(
                f"{len(problems)} invalid event(s) in the batch; nothing was applied",
                details=problems,
            )
        accepted, duplicates = await self.counters.apply(writes, now=now) if writes else (0, 0)
        await self.firing.settle(writes.keys(), rules=rules, now=now)
        self.metrics.usage_events.labels(result="accepted").inc(accepted)
        self.metrics.usage_events.labels(result="duplicate").inc(duplicates)
        return UsageResult(accepted, duplicates)


def _resolve(
    event: UsageEvent,
    index: int,
    *,
    rules: RuleSet,
    now: datetime,
    problems: list[dict[str, object]],
) -> UsageWrite | None:
    def problem(field: str, message: str) -> None:
        problems.append({"index": index, "field": f"events[{index}].{field}", "message": message})

    before = len(problems)
    metric = rules.metrics.get(event.metric)
    if metric is None:
        known = ", ".join(sorted(rules.metrics))
        problem("metric", f'unknown metric "{event.metric}"; the rules define: {known}')
    if not math.isfinite(event.value) or abs(event.value) > MAX_ABS_VALUE:
        problem("value", f"value must be a finite number of at most {MAX_ABS_VALUE:.0e} in size")
    at = event.timestamp or now
    if at > now + MAX_FUTURE:
        problem(
            "timestamp", "timestamp is more than 5 minutes in the future; check the sender's clock"
        )
    elif at < now - MAX_EVENT_AGE:
        problem(
            "timestamp", "timestamp is more than 35 days old; such usage can no longer be counted"
        )
    if metric is not None and metric.window is not None:
        if event.op == "set":
            problem("op", f'"set" is for gauges only; "{metric.name}" is a counter, send "incr"')
        elif event.value < 0:
            problem(
                "value",
                f'"{metric.name}" is a counter: it only counts up, so value must be 0 or more',
            )
    if metric is None or len(problems) > before:
        return None
    return UsageWrite(event.id, metric.name, event.op, event.value, metric.window, at)
