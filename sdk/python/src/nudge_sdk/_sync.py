"""`NudgeClient`: the blocking client, with a background thread that sends tracked usage."""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from functools import partial
from types import TracebackType
from typing import Any

import httpx

from nudge_sdk import _checks as checks
from nudge_sdk import _protocol as proto
from nudge_sdk._ledger import Ledger
from nudge_sdk._protocol import Config, Delivery, ErrorCallback, logger
from nudge_sdk._tokens import mint_client_token
from nudge_sdk.errors import NudgeError
from nudge_sdk.models import (
    Account,
    ClientStats,
    Prompt,
    PromptEventType,
    RetryPolicy,
    UsageEvent,
    UsageOp,
    parse_account,
)

# How long close() (and so interpreter exit) waits for queued usage by default.
CLOSE_TIMEOUT = 5.0
# A request in flight when close() gives up may still land; this long is waited for it.
CLOSE_GRACE = 0.5


class NudgeClient:
    """A client of the Nudge service for a SaaS backend; safe to share between threads.

    `track` only queues: a background thread sends the queue in batches. `get_prompts`
    never raises and answers within about `prompt_timeout` seconds. `set_plan`,
    `get_account` and `report_event` raise `NudgeError`s. Use it as a context manager or
    call `close()`; queued usage is also sent at interpreter exit.
    """

    def __init__(  # noqa: PLR0913 the client's options, each by keyword, as httpx.Client's
        self,
        base_url: str,
        *,
        api_key: str,
        timeout: float = 5.0,
        prompt_timeout: float = 0.5,
        signing_secret: str | None = None,
        max_queue: int = 10_000,
        max_batch: int = 500,
        flush_interval: float = 1.0,
        retry: RetryPolicy | None = None,
        on_error: ErrorCallback | None = None,
    ) -> None:
        self._config = proto.configure(
            base_url,
            api_key=api_key,
            timeout=timeout,
            prompt_timeout=prompt_timeout,
            signing_secret=signing_secret,
            max_queue=max_queue,
            max_batch=max_batch,
            flush_interval=flush_interval,
            retry=retry,
        )
        self._delivery = Delivery(policy=self._config.retry, on_error=on_error)
        self._sender = _Sender(self._config, self._delivery)
        self._http = _http_client(self._config)
        self._http_pid = os.getpid()
        atexit.register(self._sender.close_at_exit)

    # -- usage ------------------------------------------------------------------------

    def track(  # noqa: PLR0913, PLR0917 the SDK's public signature (sdk/python/README.md)
        self,
        account_id: str,
        metric: str,
        value: float = 1,
        op: UsageOp = "incr",
        event_id: str | None = None,
        timestamp: datetime | None = None,
    ) -> str | None:
        """Queues a usage event and returns its id at once; None if it was dropped.

        The id (yours, or a fresh uuid4 hex) is fixed now, so every resend counts once.
        A full queue drops the event: counted in `stats.dropped`, logged, and the next
        flush() answers False. Raises ValueError, before any I/O, for an argument the
        service always refuses (README: "Which calls raise").
        """
        event = checks.make_event(
            account_id, metric, value=value, op=op, event_id=event_id, timestamp=timestamp
        )
        return event.id if self._sender.put(event) else None

    def flush(self, timeout: float | None = 10.0) -> bool:
        """Sends everything tracked so far and waits for it (up to `timeout` seconds; None:
        no limit). True only when every event tracked since the previous flush() was
        delivered (accepted, or a duplicate the service had counted already).

        False when any of them was not: dropped by track() (a full queue, a closed
        client), refused, or given up; each such event makes one flush() answer False,
        and is also in `stats` and handed to `on_error`. False too when `timeout` passed
        first: the rest stays queued, and the next flush() answers for it as well.
        """
        return self._sender.flush(timeout)

    @property
    def stats(self) -> ClientStats:
        return self._delivery.stats()

    # -- accounts and prompts ----------------------------------------------------------

    def set_plan(  # noqa: PLR0917 the SDK's public signature (sdk/python/README.md)
        self, account_id: str, plan: str | None, attributes: Mapping[str, Any] | None = None
    ) -> Account:
        """Creates or updates the account (PUT); `attributes` replace the stored ones.
        ValueError, before any I/O, for a plan or attributes that cannot be sent as JSON."""
        path = checks.account_path(account_id)
        body = checks.plan_body(plan, attributes)
        return parse_account(self._call("PUT", path, body=body, idempotent=True))

    def get_account(self, account_id: str) -> Account:
        """The account, its plan and its usage of every metric, with limits."""
        return parse_account(self._call("GET", checks.account_path(account_id), idempotent=True))

    def get_prompts(  # noqa: PLR0917 the SDK's public signature (sdk/python/README.md)
        self, account_id: str, user_id: str | None = None, placement: str | None = None
    ) -> list[Prompt]:
        """The prompts to show now; [] on any error, timeout or degraded answer (never raises).
        Text that cannot be sent (not valid Unicode) answers [] too, before any I/O."""
        timeout = self._config.prompt_timeout
        try:
            params = checks.prompt_params(account_id, user_id=user_id, placement=placement)
        except ValueError as exc:
            self._delivery.prompt_failed(str(exc))
            return []
        try:
            answer = proto.prompts_or_reason(
                self._get_within("/v1/prompts", params, timeout=timeout)
            )
        except httpx.TimeoutException:
            answer = f"no answer within prompt_timeout ({timeout} s)"
        except httpx.HTTPError as exc:
            answer = str(proto.connection_error(exc, "GET /v1/prompts"))
        except Exception as exc:  # fail open on anything, but say what it was
            self._delivery.prompt_failed(f"{type(exc).__name__}: {exc}", unexpected=True)
            return []
        if isinstance(answer, str):
            self._delivery.prompt_failed(f"account {account_id!r}: {answer}")
            return []
        return answer

    def _get_within(self, path: str, params: Any, *, timeout: float) -> httpx.Response:
        """GET `path`, the whole answer read within `timeout`: httpx's own timeout bounds
        each network step, so an answer that trickles in would hold the caller longer."""
        deadline = time.monotonic() + timeout
        with self._client().stream("GET", path, params=params, timeout=timeout) as streamed:
            body = bytearray()
            for chunk in streamed.iter_bytes():
                body += chunk
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout("the answer took too long", request=streamed.request)
            return httpx.Response(
                streamed.status_code,
                headers=streamed.headers,
                content=bytes(body),
                request=streamed.request,
            )

    def report_event(self, prompt_id: str, type: PromptEventType) -> None:
        """Reports what the user did with a prompt: shown, clicked, dismissed or converted."""
        path = checks.event_path(prompt_id, type)
        self._call(
            "POST", path, body=checks.json_bytes("the event", {"type": type}), idempotent=False
        )

    def mint_client_token(  # noqa: PLR0917 the SDK's public signature (sdk/python/README.md)
        self,
        account_id: str,
        user_id: str | None = None,
        ttl: timedelta = timedelta(minutes=15),
        *,
        signing_secret: str | None = None,
    ) -> str:
        """A client token for the frontend, signed here (no network) with `signing_secret`:
        the client's unless one is given."""
        secret = signing_secret or self._config.signing_secret
        return mint_client_token(account_id, user_id, ttl=ttl, signing_secret=secret)

    def _call(self, method: str, path: str, *, body: bytes | None = None, idempotent: bool) -> Any:
        policy = self._config.retry
        headers = proto.JSON_HEADERS if body is not None else None
        attempt = 0
        while True:
            try:
                response = self._client().request(method, path, content=body, headers=headers)
                return proto.answer_json(response, f"{method} {path}")
            except httpx.HTTPError as exc:
                error: NudgeError = proto.connection_error(exc, f"{method} {path}")
            except NudgeError as exc:
                error = exc
            if attempt >= policy.max_retries or not proto.may_retry(error, idempotent=idempotent):
                raise error
            delay = proto.backoff(policy, attempt, error=error)
            if delay > self._config.timeout:  # a long Retry-After: the caller is waiting
                raise error
            time.sleep(delay)
            attempt += 1

    def _client(self) -> httpx.Client:
        if self._http_pid != os.getpid():  # a forked child must not share the parent's sockets
            self._http = _http_client(self._config)
            self._http_pid = os.getpid()
        return self._http

    # -- lifetime ----------------------------------------------------------------------

    def close(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Sends what is queued (waiting up to `timeout` seconds), then stops."""
        atexit.unregister(self._sender.close_at_exit)
        self._sender.close(timeout)
        self._http.close()

    def __enter__(self) -> NudgeClient:
        return self

    def __exit__(  # noqa: PLR0917 the context manager protocol
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _forked(sender: weakref.ref[_Sender]) -> None:
    alive = sender()
    if alive is not None:
        alive._forked()


class _Sender:
    """Queues usage events and sends them from a thread: by size, by interval, on flush."""

    def __init__(self, config: Config, delivery: Delivery) -> None:
        self._config = config
        self._delivery = delivery
        self._start_lock = threading.Lock()
        self._pid = 0  # the process the thread runs in: none yet
        self._reset()
        # Threads and locks do not survive fork: a forked child starts with a queue, locks
        # and counters of its own (the parent keeps sending what it queued).
        os.register_at_fork(after_in_child=partial(_forked, weakref.ref(self)))

    def _forked(self) -> None:
        self._start_lock = threading.Lock()
        self._pid = 0
        self._reset()
        self._delivery.reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)  # the thread waits here for a batch
        self._progress = threading.Condition(self._lock)  # flush() waits here
        self._wake = threading.Event()  # cuts a backoff wait short: flush or close
        self._stopping = threading.Event()  # close's time is over: give up what is left
        self._buffer: deque[UsageEvent] = deque()
        self._oldest = 0.0  # when the oldest buffered event was queued (monotonic)
        self._queued = 0  # events ever queued
        self._finished = 0  # of those, delivered or reported failed (in queue order)
        self._flush_to = 0  # flush() asked for everything up to this many queued
        self._ledger = Ledger()  # what each flush() answers
        self._closing = False
        self._thread: threading.Thread | None = None

    def _ensure_thread(self) -> None:
        """Starts the thread on first use (in a forked child too: see _forked)."""
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._thread = threading.Thread(target=self._run, name="nudge-sdk-sender", daemon=True)
            self._thread.start()
            self._pid = os.getpid()

    def put(self, event: UsageEvent) -> bool:
        self._ensure_thread()
        with self._lock:
            if self._closing:
                reason = "the client is closed"
            elif len(self._buffer) >= self._config.max_queue:
                reason = (
                    f"the queue is full ({self._config.max_queue} events wait for the service;"
                    " is it down or slow?)"
                )
            else:
                if not self._buffer:
                    self._oldest = time.monotonic()
                    self._work.notify()  # the thread starts the interval's clock
                self._buffer.append(event)
                self._queued += 1
                self._delivery.count("tracked")
                if len(self._buffer) == self._config.max_batch:
                    self._work.notify()
                return True
            self._ledger.dropped()
        self._delivery.dropped(reason)
        return False

    def flush(self, timeout: float | None) -> bool:
        with self._lock:
            target = self._queued
            window = self._ledger.open(target)
            waiting = self._finished < target
            if waiting:
                self._flush_to = max(self._flush_to, target)
                self._work.notify()
        if waiting:
            self._wake.set()
        settled = False
        try:
            with self._lock:
                settled = self._progress.wait_for(lambda: self._finished >= target, timeout)
        finally:
            with self._lock:
                answer = self._ledger.close(window, settled=settled)
        return answer

    def close(self, timeout: float) -> None:
        with self._lock:
            if self._closing:
                return
            self._closing = True  # send everything now; the thread ends when it is sent
            self._work.notify()
        self._wake.set()
        thread = self._thread
        if thread is None or self._pid != os.getpid():
            return
        thread.join(timeout)
        if thread.is_alive():
            self._stopping.set()
            self._wake.set()
            with self._lock:
                self._work.notify()
            thread.join(CLOSE_GRACE)
        if thread.is_alive():  # a request still in flight; at exit its events are lost
            pending = self._delivery.stats().pending
            logger.error(
                "nudge: closed with %d usage event(s) not delivered: the service did not"
                " answer within %.1f s",
                pending,
                timeout + CLOSE_GRACE,
            )

    def close_at_exit(self) -> None:
        self.close(CLOSE_TIMEOUT)

    # -- the thread --------------------------------------------------------------------

    def _run(self) -> None:
        with _http_client(self._config) as http:
            while True:
                batch, stop = self._next_batch()
                if batch:
                    taken: list[UsageEvent] = []
                    if stop:
                        closed = NudgeError("the client was closed before they could be sent")
                        self._delivery.failed(batch, closed, why="given up at close")
                    else:
                        taken = self._deliver(http, batch)
                    with self._lock:  # batches are sent in queue order: this one starts here
                        self._ledger.settled(self._finished, batch, taken=taken)
                        self._finished += len(batch)
                        self._progress.notify_all()
                if stop:
                    return

    def _next_batch(self) -> tuple[list[UsageEvent], bool]:
        """The next batch to send once one is due, and whether the thread should end."""
        with self._lock:
            while True:
                if self._stopping.is_set():
                    rest = list(self._buffer)
                    self._buffer.clear()
                    return rest, True
                waiting = len(self._buffer)
                if not waiting:
                    if self._closing:
                        return [], True
                    self._work.wait()
                    continue
                now = time.monotonic()
                due = self._oldest + self._config.flush_interval
                if (
                    waiting >= self._config.max_batch
                    or self._closing
                    or self._flush_to > self._queued - waiting
                    or now >= due
                ):
                    size = min(waiting, self._config.max_batch)
                    return [self._buffer.popleft() for _ in range(size)], False
                self._work.wait(due - now)

    def _deliver(self, http: httpx.Client, batch: list[UsageEvent]) -> list[UsageEvent]:
        """Sends one batch until each of its events is delivered or reported (refused,
        given up); returns the ones the service took."""
        self._wake.clear()  # only a flush or close from now on cuts a backoff short
        sending = proto.Sending(batch, self._delivery)
        try:
            while (events := sending.next()) is not None:
                delay = sending.answered(self._post(http, events))
                if delay is not None and not self._pause(delay, server_asked=sending.server_asked):
                    closed = NudgeError("the client was closed while they waited for a retry")
                    sending.give_up(closed, "given up at close")
        except Exception as exc:  # a bug here must not stop the delivery of later batches
            logger.exception("nudge: the usage sender failed")
            sending.give_up(NudgeError(f"{type(exc).__name__}: {exc}"), "SDK error")
        return sending.taken

    def _post(self, http: httpx.Client, batch: list[UsageEvent]) -> proto.Outcome:
        content = proto.usage_content(batch)
        if not isinstance(content, bytes):
            return content
        try:
            response = http.post("/v1/usage", content=content, headers=proto.JSON_HEADERS)
        except httpx.HTTPError as exc:
            return proto.Failed(proto.connection_error(exc, "POST /v1/usage"))
        return proto.usage_outcome(response)

    def _pause(self, delay: float, *, server_asked: float | None) -> bool:
        """Waits before a resend; False if the client is closing for good meanwhile.

        flush() and close() cut a backoff short; a wait the service asked for
        (Retry-After) is kept.
        """
        if server_asked:
            self._stopping.wait(delay)
        else:
            self._wake.wait(delay)
            self._wake.clear()
        return not self._stopping.is_set()


def _http_client(config: Config) -> httpx.Client:
    return httpx.Client(base_url=config.base_url, headers=config.headers, timeout=config.timeout)
