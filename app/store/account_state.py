"""One account's state in Redis, read across the key families in one MGET.

The prompt path reads the whole state of an account's user; the write paths read the
account-level part to settle `for:` marks and signals; `nudge rules impact` reads that
part in pipelines for many accounts (AccountScan). All keys carry the account's hash
tag, so one MGET reads them on Redis Cluster too.

Decoding trusts no value. What the state is made of (the plan mirror and the usage)
must be what Nudge wrote, or the read fails with StoreUnavailable, so the prompt path
answers degraded rather than guess. Bookkeeping (pending marks, dismissals,
impressions) that cannot be read counts as absent, so the next write replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from app.engine import AccountState, RuleSet
from app.errors import StoreUnavailable
from app.store import keys
from app.store.account_mirror import AccountMirror, decode_mirror, mirror_section
from app.store.firing_marks import AccountSnapshot, decode_pending, pending_section
from app.store.prompt_history import (
    decode_dismissals,
    decode_impressions,
    dismissals_section,
    impressions_section,
)
from app.store.read_plan import Raw, ReadPlan, by_key
from app.store.redis_client import StoreClient
from app.store.usage_counters import decode_usage, usage_section

# The sections of the read. The mirror and the usage are what the account's triggers
# are computed from: the inputs a settle of the marks checks are unchanged.
MIRROR = "mirror"
USAGE = "usage"
PENDING = "pending"
DISMISSALS = "dismissals"
IMPRESSIONS = "impressions"
INPUTS = (MIRROR, USAGE)


class StateRead:
    """The read plan of one account's state, and the state from the values read.

    Without `for_user`, the state is the account's own: no dismissals nor impressions.
    """

    def __init__(
        self,
        account_id: str,
        rules: RuleSet,
        *,
        now: datetime,
        user_id: str | None = None,
        for_user: bool = False,
    ) -> None:
        self._account_id = account_id
        self._rules = rules
        self._now = now
        sections = {
            MIRROR: mirror_section(account_id),
            USAGE: usage_section(account_id, rules, now=now),
            PENDING: pending_section(account_id, rules),
        }
        if for_user:
            sections[DISMISSALS] = dismissals_section(account_id, user_id, rules=rules)
            sections[IMPRESSIONS] = impressions_section(account_id, user_id, rules=rules)
        self.plan = ReadPlan(sections)
        self.keys = self.plan.keys

    def decode(self, found: Mapping[str, Raw]) -> AccountState:
        """The state from the values of `keys`, by key (None where missing)."""
        answer = self.plan.answer(found)
        try:
            mirror = decode_mirror(answer[MIRROR])
            usage = decode_usage(answer[USAGE])
        except (ValueError, TypeError, RecursionError) as exc:
            raise StoreUnavailable(
                f"a key of the account holds a value Nudge did not write ({exc}); "
                f"inspect the keys {keys.account_tag(self._account_id)}:*"
            ) from exc
        lists = {who: decode_impressions(raw) for who, raw in answer.get(IMPRESSIONS, {}).items()}
        return AccountState(
            plan=mirror.plan,
            usage=usage,
            dismissed_at=decode_dismissals(answer.get(DISMISSALS, {})),
            attributes=mirror.attributes,
            pending_since=decode_pending(answer[PENDING], self._rules, now=self._now),
            impressions=lists.get("user", ()),
            account_impressions=lists.get("account", ()),
        )

    def snapshot(self, found: Mapping[str, Raw]) -> AccountSnapshot:
        """The state, with the values of its inputs as the marks are settled against."""
        inputs = {
            key: found[key] or "" for name in INPUTS for key in self.plan.sections[name].values()
        }
        return AccountSnapshot(self.decode(found), inputs)


class StateReader:
    """Reads accounts' state, each in one MGET."""

    def __init__(self, client: StoreClient) -> None:
        self._client = client

    async def read_state(
        self, account_id: str, user_id: str | None, *, rules: RuleSet, now: datetime
    ) -> AccountState:
        """What the prompt path needs of one account and user: one MGET, under the budget."""
        read = StateRead(account_id, rules, now=now, user_id=user_id, for_user=True)
        async with self._client.call("reading the account's state", within_budget=True) as redis:
            values = await redis.mget(read.keys)
        return read.decode(by_key(read.keys, values))

    async def read_account_state(
        self, account_id: str, rules: RuleSet, *, now: datetime
    ) -> AccountSnapshot:
        """The account-level state (no user): plan, attributes, usage, pending marks."""
        read = StateRead(account_id, rules, now=now)
        async with self._client.call("reading the account's state") as redis:
            values = await redis.mget(read.keys)
        return read.snapshot(by_key(read.keys, values))

    async def read_account(
        self, account_id: str, rules: RuleSet, *, now: datetime
    ) -> tuple[AccountMirror, dict[str, float]]:
        """The mirrored plan and the current usage of every metric (counters: this window)."""
        state = (await self.read_account_state(account_id, rules, now=now)).state
        usage = {metric: state.usage.get(metric, 0.0) for metric in rules.metrics}
        return AccountMirror(state.plan, state.attributes), usage
