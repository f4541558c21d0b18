"""Every account in the store, for offline tools: listed with SCAN, read in batched pipelines.

The prompt path reads one account in one MGET; a tool such as `nudge rules impact`
reads all of them. It lists the accounts from their keys (the plan mirror and the
usage keys, so an account that reported usage but was never PUT counts too), then
reads each account's account-level state (plan, attributes, the usage of every
metric, the pending marks of `for:` triggers; nothing of any user) with one MGET per
account, several hundred MGETs to a pipeline. On Redis Cluster each primary is
scanned on its own, and a pipeline sends each MGET to the node that owns the
account's slot (all of an account's keys share its hash tag).

Several rule sets can be read at once: a metric's key depends on its window, which
two rule sets may define differently, so each set gets the state its own metrics see,
decoded by the prompt path's own StateRead.

An account whose keys hold a value Nudge did not write (an operator's edit, a restore
gone wrong) cannot be decoded: it is set aside as unreadable, with the reason, and the
scan goes on with the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from redis.asyncio import RedisCluster

from app.engine import AccountState, RuleSet
from app.errors import StoreUnavailable
from app.store import keys
from app.store.account_state import StateRead
from app.store.read_plan import by_key
from app.store.redis_client import StoreClient

SCAN_COUNT = 1000  # keys Redis looks at per SCAN call: few round trips, short calls
BATCH_SIZE = 500  # accounts per pipeline


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An account whose keys could not be decoded, and why (naming the keys to inspect)."""

    account_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class StateBatch:
    """One batch of accounts: the states of those that decoded, and the others."""

    states: list[tuple[str, tuple[AccountState, ...]]]  # (account id, one state per rule set)
    unreadable: list[Unreadable]

    def __len__(self) -> int:
        return len(self.states) + len(self.unreadable)


@dataclass(frozen=True, slots=True)
class _Layout:
    """Which of the rule sets read the same keys, worked out once a run: those share one
    read and one decoded state (the keys name the metrics and triggers decoded from them)."""

    distinct: tuple[RuleSet, ...]  # one rule set of each distinct key list
    state_of: tuple[int, ...]  # per rule set asked for: its index in `distinct`

    @classmethod
    def of(cls, rule_sets: Sequence[RuleSet], *, now: datetime) -> _Layout:
        distinct: dict[tuple[str, ...], RuleSet] = {}
        state_of: list[int] = []
        for rules in rule_sets:
            # Two accounts' keys differ only in the account's tag: one probe account tells.
            probe = tuple(StateRead("probe", rules, now=now).keys)
            distinct.setdefault(probe, rules)
            state_of.append(list(distinct).index(probe))
        return cls(tuple(distinct.values()), tuple(state_of))


@dataclass(frozen=True, slots=True)
class _AccountRead:
    """One account's MGET for several rule sets, each decoded as the prompt path would."""

    account_id: str
    layout: _Layout
    reads: tuple[StateRead, ...]  # one per distinct key list
    keys: list[str]

    @classmethod
    def of(cls, account_id: str, layout: _Layout, *, now: datetime) -> _AccountRead:
        reads = tuple(StateRead(account_id, rules, now=now) for rules in layout.distinct)
        keys = reads[0].keys if len(reads) == 1 else [key for read in reads for key in read.keys]
        return cls(account_id, layout, reads, keys)

    def states(self, values: Sequence[Any]) -> tuple[AccountState, ...]:
        """Raises StoreUnavailable for a value Nudge did not write (StateRead.decode)."""
        found = by_key(self.keys, values)
        decoded = [read.decode(found) for read in self.reads]
        return tuple(decoded[index] for index in self.layout.state_of)


class AccountScan:
    """Lists the accounts in the store and reads their account-level state, in batches."""

    def __init__(
        self, client: StoreClient, *, batch_size: int = BATCH_SIZE, scan_count: int = SCAN_COUNT
    ) -> None:
        self._client = client
        self._redis = client.redis
        self._batch_size = batch_size
        self._scan_count = scan_count

    async def account_ids(self, *, on_found: Callable[[int], None] | None = None) -> list[str]:
        """Every account that has a plan mirror or a usage key, each once, node by node.

        `on_found(count)` is told the running count as the scan goes.
        """
        targets: list[dict[str, Any]] = [{}]
        if isinstance(self._redis, RedisCluster):
            async with self._client.call("connecting"):
                await self._redis.initialize()  # a new client knows no node until it connects
            # Each primary holds its own slots' keys: scan them side by side. Keeping each
            # node's accounts together makes most pipelines go to a single node.
            targets = [{"target_nodes": node} for node in self._redis.get_primaries()]
        per_node: list[dict[str, None]] = [{} for _ in targets]  # insertion-ordered sets

        def found(node: int, batch: Sequence[str]) -> None:
            per_node[node].update(dict.fromkeys(filter(None, map(keys.account_id_of, batch))))
            if on_found is not None:
                on_found(sum(map(len, per_node)))

        async with self._client.call("listing the accounts"):
            await asyncio.gather(
                *(self._scan(partial(found, node), target) for node, target in enumerate(targets))
            )
        return list(dict.fromkeys(account for node in per_node for account in node))

    async def _scan(self, found: Callable[[Sequence[str]], None], target: dict[str, Any]) -> None:
        # SCAN by hand rather than scan_iter: a list of keys per call, not one await per key.
        cursor = 0
        while True:
            answer: Any = await self._redis.scan(
                cursor, match=keys.ACCOUNT_KEYS_PATTERN, count=self._scan_count, **target
            )
            if target:  # a cluster answers with the cursor of each node asked (one here)
                cursors, batch = answer
                (cursor,) = cursors.values()
            else:
                cursor, batch = answer
            found(batch)
            if not cursor:
                return

    async def read_states(
        self, account_ids: Sequence[str], rule_sets: Sequence[RuleSet], *, now: datetime
    ) -> AsyncIterator[StateBatch]:
        """The accounts' states, one per rule set, `batch_size` accounts a batch.

        Counters are read in the window that contains `now`. An account that does not
        decode is in its batch's `unreadable`. The next batch is in flight while the
        caller works on this one. Raises StoreUnavailable if Redis fails.
        """
        batches = [
            account_ids[start : start + self._batch_size]
            for start in range(0, len(account_ids), self._batch_size)
        ]
        if not batches:
            return
        layout = _Layout.of(rule_sets, now=now)
        next_read = asyncio.ensure_future(self._read_batch(batches[0], layout, now=now))
        try:
            for following in [*batches[1:], None]:
                async with self._client.call("reading the accounts"):
                    answers = await next_read
                if following is not None:
                    next_read = asyncio.ensure_future(self._read_batch(following, layout, now=now))
                yield _decoded(answers)
        finally:
            if not next_read.done():
                next_read.cancel()
            elif not next_read.cancelled():
                next_read.exception()  # retrieved: a read the caller gave up on may have failed

    async def _read_batch(
        self, batch: Sequence[str], layout: _Layout, *, now: datetime
    ) -> list[tuple[_AccountRead, list[Any]]]:
        reads = [_AccountRead.of(account, layout, now=now) for account in batch]
        # Not a transaction: each MGET reads one account, which is all that must be consistent.
        pipeline = self._redis.pipeline(transaction=False)
        for read in reads:
            # Raw MGET: redis-py's cluster pipeline refuses its mget() helper, as keys of
            # several slots would fail; one account's keys share a slot, so this MGET goes
            # to the node that owns it (the pipeline sends each node its share at once).
            pipeline.execute_command("MGET", *read.keys)
        answers: list[list[Any]] = await pipeline.execute()
        return list(zip(reads, answers, strict=True))


def _decoded(answers: Sequence[tuple[_AccountRead, list[Any]]]) -> StateBatch:
    batch = StateBatch([], [])
    for read, values in answers:
        try:
            # Decoding does no I/O: StoreUnavailable here is a value Nudge did not write.
            batch.states.append((read.account_id, read.states(values)))
        except StoreUnavailable as exc:
            batch.unreadable.append(Unreadable(read.account_id, exc.message))
    return batch
