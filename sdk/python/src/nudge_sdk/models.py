"""The SDK's typed values: what the service answers, what it is sent, and the client's counters."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

PromptStyle = Literal["banner", "modal", "inline", "toast"]
PromptEventType = Literal["shown", "clicked", "dismissed", "converted"]
UsageOp = Literal["incr", "set"]
Number = int | float


@dataclass(frozen=True, slots=True)
class Cta:
    """A prompt's call to action."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """A prompt to show, as `GET /v1/prompts` answers it (`dataclasses.asdict` gives the JSON)."""

    id: str
    trigger: str
    metric: str | None
    usage: Number | None
    limit: Number | None
    plan: str
    upgrade_plan: str | None
    style: PromptStyle
    title: str
    body: str | None
    cta: Cta | None


@dataclass(frozen=True, slots=True)
class MetricUsage:
    """One metric of an account: a gauge's level or a counter's count in its current window."""

    value: Number
    limit: Number | None  # None: unlimited on the account's plan
    window: str | None = None  # counters only: hour, day, week or month
    resets_at: datetime | None = None  # counters only: when the current window ends


@dataclass(frozen=True, slots=True)
class Account:
    """An account, its plan and the usage of every metric of the live rules."""

    account_id: str
    plan: str
    attributes: dict[str, Any]
    usage: dict[str, MetricUsage]
    created_at: datetime | None  # None: never PUT (the account is on the default plan)
    updated_at: datetime | None
    signals: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """One tracked usage event; its `id` makes every resend of it count once."""

    id: str
    account_id: str
    metric: str
    value: Number
    op: UsageOp
    timestamp: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "account_id": self.account_id,
            "metric": self.metric,
            "value": self.value,
            "op": self.op,
            "timestamp": self.timestamp.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the client retries what a retry can help: connection errors, timeouts, 408, 429, 5xx.

    The background sender retries a usage batch with jittered exponential backoff
    (`backoff_base` doubling up to `backoff_max` seconds, never sooner than the answer's
    Retry-After) for up to `max_time` seconds; its events stay queued meanwhile. Then it
    gives the batch up and reports it. `max_retries` bounds the retries of the calls that
    wait for their answer (set_plan, get_account, report_event).
    """

    max_time: float = 600.0
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retries: int = 2

    def __post_init__(self) -> None:
        if self.max_time < 0 or self.backoff_base <= 0 or self.backoff_max < self.backoff_base:
            raise ValueError(
                "RetryPolicy needs max_time >= 0 and 0 < backoff_base <= backoff_max "
                f"(got max_time={self.max_time}, backoff_base={self.backoff_base}, "
                f"backoff_max={self.backoff_max})"
            )
        if self.max_retries < 0:
            raise ValueError(f"RetryPolicy.max_retries must be >= 0, not {self.max_retries}")


@dataclass(frozen=True, slots=True)
class ClientStats:
    """A snapshot of the client's counters (`client.stats`)."""

    tracked: int  # events track() queued
    sent: int  # events the service acknowledged (duplicates included)
    duplicates: int  # of those, events it had counted before: a resend after a lost answer
    dropped: int  # events track() refused: the queue was full, or the client closed
    failed: int  # refused (4xx, or not sendable as JSON), or given up after max_time or at close
    retried: int  # resends of usage batches
    pending: int  # events queued or in flight
    prompt_failures: int  # get_prompts calls that failed open (error, timeout, degraded)


def parse_prompts(body: Any) -> tuple[list[Prompt], bool]:
    """The prompts of a `GET /v1/prompts` answer, and whether it was degraded."""
    return [_prompt(item) for item in body["prompts"]], bool(body.get("degraded", False))


def _prompt(item: dict[str, Any]) -> Prompt:
    cta = item.get("cta")
    return Prompt(
        id=str(item["id"]),
        trigger=str(item["trigger"]),
        metric=item.get("metric"),
        usage=item.get("usage"),
        limit=item.get("limit"),
        plan=str(item["plan"]),
        upgrade_plan=item.get("upgrade_plan"),
        style=item["style"],
        title=str(item["title"]),
        body=item.get("body"),
        cta=Cta(label=str(cta["label"]), url=str(cta["url"])) if cta else None,
    )


def parse_account(body: Any) -> Account:
    return Account(
        account_id=str(body["account_id"]),
        plan=str(body["plan"]),
        attributes=dict(body.get("attributes") or {}),
        usage={
            metric: MetricUsage(
                value=usage["value"],
                limit=usage.get("limit"),
                window=usage.get("window"),
                resets_at=_datetime(usage.get("resets_at")),
            )
            for metric, usage in (body.get("usage") or {}).items()
        },
        created_at=_datetime(body.get("created_at")),
        updated_at=_datetime(body.get("updated_at")),
        signals=list(body.get("signals") or []),
    )


def _datetime(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
