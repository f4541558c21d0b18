"""What the sync and async clients share: reading answers, retry decisions, the way of a
usage batch to the service, and the counters and reports of background delivery. No
network and no waiting here. (Argument checks: _checks.py; what flush() answers: _ledger.py.)"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from nudge_sdk._checks import json_bytes
from nudge_sdk._version import __version__
from nudge_sdk.errors import NudgeAPIError, NudgeConnectionError, NudgeError
from nudge_sdk.models import (
    ClientStats,
    Prompt,
    RetryPolicy,
    UsageEvent,
    parse_prompts,
)

logger = logging.getLogger("nudge_sdk")

MAX_BATCH = 1000  # the service takes at most this many events in one POST /v1/usage
# The service's (and nginx's default) request body limit: a batch over it goes in parts.
MAX_BODY_BYTES = 1024 * 1024
JSON_HEADERS = {"Content-Type": "application/json"}

ErrorCallback = Callable[[NudgeError, Sequence[UsageEvent]], None]


def api_error(response: httpx.Response) -> NudgeAPIError:
    """The service's error answer as an exception; a proxy's non-JSON answer too."""
    code, message, details = f"http_{response.status_code}", "", []
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        details = [item for item in error.get("details") or [] if isinstance(item, dict)]
    except Exception:  # not the service's error shape: a proxy or a load balancer answered
        message = response.text[:200].strip() or response.reason_phrase
    return NudgeAPIError(
        response.status_code,
        code,
        message,
        details=details,
        retry_after=retry_after(response.headers.get("retry-after")),
    )


def retry_after(header: str | None) -> float | None:
    """Retry-After in seconds: a number of seconds or an HTTP date."""
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# The request never left: nothing can have been applied.
_UNSENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def connection_error(exc: httpx.HTTPError, what: str) -> NudgeConnectionError:
    timed_out = isinstance(exc, httpx.TimeoutException)
    reason = "timed out" if timed_out else (str(exc) or type(exc).__name__)
    return NudgeConnectionError(
        f"{what}: {reason}", timed_out=timed_out, request_sent=not isinstance(exc, _UNSENT)
    )


def retryable(status: int) -> bool:
    """408, 429 and 5xx: the service (or a proxy) may answer otherwise a moment later."""
    return status in (408, 429) or status >= 500


def may_retry(error: NudgeError, *, idempotent: bool) -> bool:
    """Whether resending a request after `error` can help, and cannot apply it twice.

    A request that may have been applied (a timeout, a 500) is resent only where
    applying it again changes nothing; 429 and 503 mean nothing was applied.
    """
    if isinstance(error, NudgeAPIError):
        return retryable(error.status) and (idempotent or error.status in (429, 503))
    if isinstance(error, NudgeConnectionError):
        return idempotent or not error.request_sent
    return False


def backoff(policy: RetryPolicy, attempt: int, *, error: NudgeError) -> float:
    """Jittered exponential backoff for the `attempt`-th retry (from 0), never under Retry-After."""
    ceiling = min(policy.backoff_max, policy.backoff_base * 2.0 ** min(attempt, 32))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    wait = error.retry_after if isinstance(error, NudgeAPIError) else None
    return max(delay, wait or 0.0)


@dataclass(frozen=True, slots=True)
class Delivered:
    accepted: int
    duplicates: int


@dataclass(frozen=True, slots=True)
class Refused:
    """Resending cannot help: a 4xx, or events this SDK cannot encode. `bad` are the
    indexes of the events it names (none: it is about the whole batch); `reasons` says
    what is wrong with each, where it was said."""

    error: NudgeError
    bad: frozenset[int]
    reasons: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TooLarge:
    """The batch is over a body limit (this SDK's count, or a 413): send it in halves."""

    error: NudgeError


@dataclass(frozen=True, slots=True)
class Failed:
    """A connection error, a timeout, 408, 429 or 5xx: the same batch may be resent."""

    error: NudgeError


Outcome = Delivered | Refused | TooLarge | Failed


def usage_content(batch: Sequence[UsageEvent]) -> bytes | Refused | TooLarge:
    """The body of `POST /v1/usage` for `batch`, or why it cannot be sent as it is.

    track() refuses what cannot be encoded; should an event get past it all the same,
    only that event is refused, and the others go out without it.
    """
    try:
        content = json_bytes("the batch", usage_body(batch))
    except Exception:  # ValueError, or whatever a timestamp's own isoformat() raised
        return _unencodable(batch)
    if len(content) > MAX_BODY_BYTES:
        return TooLarge(
            NudgeError(f"{len(batch)} events are over {MAX_BODY_BYTES // 1024} KiB as JSON")
        )
    return content


def _unencodable(batch: Sequence[UsageEvent]) -> Refused:
    reasons: dict[int, str] = {}
    for index, event in enumerate(batch):
        try:
            json_bytes("event", event.to_json())
        except Exception as exc:  # a to_json that raises is as unsendable as bad text
            reasons[index] = str(exc) if isinstance(exc, ValueError) else repr(exc)
    error = NudgeError(f"{len(reasons) or len(batch)} usage event(s) cannot be sent as JSON")
    return Refused(error, frozenset(reasons), reasons)


def usage_outcome(response: httpx.Response) -> Outcome:
    if response.is_success:
        try:
            body = response.json()
            return Delivered(int(body["accepted"]), int(body["duplicates"]))
        except Exception:  # the service took the batch; its answer's shape is not ours to judge
            return Delivered(0, 0)
    error = api_error(response)
    if retryable(error.status):
        return Failed(error)
    if error.status == 413:
        return TooLarge(error)
    reasons: dict[int, str] = {}
    for item in error.details:
        index = item.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            said = str(item.get("message"))
            reasons[index] = f"{reasons[index]}; {said}" if index in reasons else said
    return Refused(error, frozenset(reasons), reasons)


class Throttle:
    """Lets one log line through per `every` seconds and counts the ones it held back."""

    def __init__(self, every: float) -> None:
        self._every = every
        self._next = 0.0
        self._held = 0
        self._lock = threading.Lock()

    def due(self) -> int | None:
        """None: stay quiet. Otherwise log now; the number is how many were held back."""
        with self._lock:
            now = time.monotonic()
            if now < self._next:
                self._held += 1
                return None
            held, self._held, self._next = self._held, 0, now + self._every
            return held


class Delivery:
    """The client's counters, and what it says about usage it sends, resends or gives up."""

    def __init__(self, *, policy: RetryPolicy, on_error: ErrorCallback | None) -> None:
        self.policy = policy
        self._on_error = on_error
        self.reset()
        self._drop_log = Throttle(10.0)
        self._prompt_log = Throttle(10.0)
        self._split_log = Throttle(10.0)

    def reset(self) -> None:
        """Zero counters (a forked child counts its own events, not its parent's)."""
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(
            ("tracked", "sent", "duplicates", "dropped", "failed", "retried", "prompt_failures"), 0
        )

    def count(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def stats(self) -> ClientStats:
        with self._lock:
            c = dict(self._counts)
        return ClientStats(**c, pending=c["tracked"] - c["sent"] - c["failed"])

    def dropped(self, reason: str) -> None:
        self.count("dropped")
        held = self._drop_log.due()
        if held is not None:
            more = f" (and {held} more since the last report)" if held else ""
            logger.warning("nudge: usage event dropped%s: %s", more, reason)

    def prompt_failed(self, reason: str, *, unexpected: bool = False) -> None:
        self.count("prompt_failures")
        held = self._prompt_log.due()
        if held is not None:
            more = f" ({held} more since the last report)" if held else ""
            logger.warning(
                "nudge: get_prompts answered [] (fail open)%s: %s",
                more,
                reason,
                exc_info=unexpected,
            )

    def delivered(self, batch: Sequence[UsageEvent], outcome: Delivered) -> None:
        self.count("sent", len(batch))
        self.count("duplicates", outcome.duplicates)

    def refused(self, batch: list[UsageEvent], outcome: Refused) -> list[UsageEvent]:
        """Reports the events the service (or the encoder) refused; returns those still
        worth sending.

        The service validates a batch whole and applies none of it on a 422, so the
        events it did not name go out again in a batch of their own.
        """
        if outcome.bad and all(0 <= index < len(batch) for index in outcome.bad):
            bad = [event for index, event in enumerate(batch) if index in outcome.bad]
            rest = [event for index, event in enumerate(batch) if index not in outcome.bad]
        else:
            bad, rest = batch, []
        why = [
            f"{_describe(batch[index])}: {reason}"
            for index, reason in sorted(outcome.reasons.items())
            if 0 <= index < len(batch)
        ]
        by_service = isinstance(outcome.error, NudgeAPIError)
        by = "the service" if by_service else "this SDK"
        again = "again" if by_service else "without them"
        rest_goes = f"; the other {len(rest)} of the batch are sent {again}" if rest else ""
        self.failed(bad, outcome.error, why=f"refused by {by}, not retried{rest_goes}", reasons=why)
        return rest

    def split(self, batch: Sequence[UsageEvent], outcome: TooLarge) -> None:
        """Says that `batch` goes in halves: over the service's body limit, or a proxy's."""
        held = self._split_log.due()
        if held is None:
            return
        more = f" ({held} more since the last report)" if held else ""
        proxy = isinstance(outcome.error, NudgeAPIError)
        (logger.warning if proxy else logger.info)(
            "nudge: a batch of %d usage events is too large (%s); it is sent in halves%s%s",
            len(batch),
            outcome.error,
            more,
            "; lower max_batch to save the extra requests" if proxy else "",
        )

    def retry_delay(
        self, batch: Sequence[UsageEvent], error: NudgeError, *, attempt: int, elapsed: float
    ) -> float | None:
        """Seconds to wait before resending `batch`; None once it is given up (and reported)."""
        delay = backoff(self.policy, attempt, error=error)
        if elapsed + delay > self.policy.max_time:
            self.failed(batch, error, why=f"given up after retrying for {elapsed:.0f} s")
            return None
        self.count("retried")
        asked = isinstance(error, NudgeAPIError) and error.retry_after == delay
        log = logger.warning if attempt == 0 else logger.info
        log(
            "nudge: could not deliver %d usage event(s) (%s); resending in %.2f s%s, "
            "they stay queued until then",
            len(batch),
            error,
            delay,
            " as the service asked (Retry-After)" if asked else "",
        )
        return delay

    def failed(
        self,
        events: Sequence[UsageEvent],
        error: NudgeError,
        *,
        why: str,
        reasons: Sequence[str] = (),
    ) -> None:
        """Counts, logs and hands to `on_error` events that will never be counted."""
        if not events:
            return
        self.count("failed", len(events))
        listed = "".join(f"\n  {reason}" for reason in reasons[:10])
        more = f"\n  ... and {len(reasons) - 10} more" if len(reasons) > 10 else ""
        logger.error(
            "nudge: %d usage event(s) not counted, %s: %s%s%s",
            len(events),
            why,
            error,
            listed,
            more,
        )
        if self._on_error is not None:
            try:
                self._on_error(error, list(events))
            except Exception:
                logger.exception("nudge: the on_error callback raised")


class Sending:
    """One batch on its way to the service: what to send next, given what the last send
    got. The clients only send and wait; both decide here.

    A refusal costs only the events it names (the others are sent again); a batch too
    large for a body limit is sent in halves; a failure is resent after a backoff until
    `RetryPolicy.max_time`, then given up. Each event ends delivered or reported.
    """

    def __init__(self, batch: list[UsageEvent], delivery: Delivery) -> None:
        self._delivery = delivery
        self._todo = [batch]  # the next to send last
        self._started = time.monotonic()
        self._attempt = 0
        self.taken: list[UsageEvent] = []  # the events the service took
        self.server_asked: float | None = None  # the Retry-After of the last failure

    def next(self) -> list[UsageEvent] | None:
        """The events to send now; None once every event is delivered or reported."""
        while self._todo and not self._todo[-1]:
            self._todo.pop()
        return self._todo[-1] if self._todo else None

    def answered(self, outcome: Outcome) -> float | None:
        """Takes what sending `next()` got; the seconds to wait before the next send."""
        batch = self._todo.pop()
        if isinstance(outcome, Delivered):
            self._delivery.delivered(batch, outcome)
            self.taken += batch
        elif isinstance(outcome, Refused):
            self._todo.append(self._delivery.refused(batch, outcome))
        elif isinstance(outcome, TooLarge):
            if len(batch) == 1:
                self._delivery.failed(batch, outcome.error, why="over the body limit on its own")
            else:
                self._delivery.split(batch, outcome)
                middle = (len(batch) + 1) // 2
                self._todo += [batch[middle:], batch[:middle]]
        else:
            elapsed = time.monotonic() - self._started
            delay = self._delivery.retry_delay(
                batch, outcome.error, attempt=self._attempt, elapsed=elapsed
            )
            if delay is not None:  # else given up and reported
                self._attempt += 1
                self._todo.append(batch)
                self.server_asked = getattr(outcome.error, "retry_after", None)
            return delay
        return None

    def unsent(self) -> list[UsageEvent]:
        """The events neither delivered nor reported yet (the ones in flight among them)."""
        return [event for batch in reversed(self._todo) for event in batch]

    def give_up(self, error: NudgeError, why: str) -> None:
        self._delivery.failed(self.unsent(), error, why=why)
        self._todo = []


def _describe(event: UsageEvent) -> str:
    # repr: an id that is not valid Unicode must not break the log handler that writes it
    return f"event {event.id!r} ({event.op} {event.metric} {event.value} of {event.account_id})"


@dataclass(frozen=True, slots=True)
class Config:
    base_url: str
    headers: dict[str, str]
    timeout: float
    prompt_timeout: float
    signing_secret: str | None
    max_queue: int
    max_batch: int
    flush_interval: float
    retry: RetryPolicy


def configure(  # noqa: PLR0913 the clients' options, passed on by keyword
    base_url: str,
    *,
    api_key: str,
    timeout: float,
    prompt_timeout: float,
    signing_secret: str | None,
    max_queue: int,
    max_batch: int,
    flush_interval: float,
    retry: RetryPolicy | None,
) -> Config:
    """Checks a client's arguments once, naming the bad one and what it should be."""
    if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
        raise ValueError(
            f"base_url must be the service's http:// or https:// URL, not {base_url!r}"
        )
    if not api_key:
        raise ValueError("api_key is required: one of the service's NUDGE_API_KEYS")
    if timeout <= 0 or prompt_timeout <= 0 or flush_interval <= 0:
        raise ValueError("timeout, prompt_timeout and flush_interval must be positive seconds")
    if not 1 <= max_batch <= MAX_BATCH:
        raise ValueError(f"max_batch must be 1-{MAX_BATCH} (the service's limit), not {max_batch}")
    if max_queue < 1:
        raise ValueError(f"max_queue must be at least 1 event, not {max_queue}")
    return Config(
        base_url=base_url.rstrip("/"),
        headers={
            "Authorization": f"Bearer {api_key}",
            "User-Agent": f"nudge-sdk-python/{__version__}",
        },
        timeout=timeout,
        prompt_timeout=prompt_timeout,
        signing_secret=signing_secret,
        max_queue=max_queue,
        max_batch=max_batch,
        flush_interval=flush_interval,
        retry=retry or RetryPolicy(),
    )


def usage_body(batch: Sequence[UsageEvent]) -> dict[str, Any]:
    return {"events": [event.to_json() for event in batch]}


def prompts_or_reason(response: httpx.Response) -> list[Prompt] | str:
    """The prompts of an answer, or why the caller gets none (it fails open)."""
    if not response.is_success:
        return str(api_error(response))
    try:
        prompts, degraded = parse_prompts(response.json())
    except Exception as exc:
        return f"an answer this SDK cannot read ({type(exc).__name__}: {exc})"
    if degraded:
        return "the service answered degraded (its Redis is slow or down)"
    return prompts


def answer_json(response: httpx.Response, what: str) -> Any:
    """The JSON of a successful answer; raises NudgeAPIError for an error answer."""
    if not response.is_success:
        raise api_error(response)
    try:
        return response.json()
    except ValueError:
        raise NudgeError(
            f"{what}: the answer is not JSON; is base_url the Nudge service?"
        ) from None
