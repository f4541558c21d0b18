"""`AsyncNudgeClient`: the asyncio client, with a background task that sends tracked usage."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

import httpx

from nudge_sdk import _checks as checks
from nudge_sdk import _protocol as proto
from nudge_sdk._ledger import Ledger
from nudge_sdk._protocol import Config, Delivery, ErrorCallback
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

CLOSE_TIMEOUT = 5.0


class AsyncNudgeClient:
    """The asyncio twin of `NudgeClient`, for one event loop.

    `track` is a plain method (no await) that only queues; a task on the loop sends
    the queue in batches. Close it (`async with`, or `await close()` in your app's
    shutdown): an asyncio client cannot send at interpreter exit.
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
        self._sender = _AsyncSender(self._config, self._delivery)
        self._http = httpx.AsyncClient(
            base_url=self._config.base_url,
            headers=self._config.headers,
            timeout=self._config.timeout,
        )

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
        """Queues a usage event and returns its id at once (no await); None if dropped.

        Call it from the loop's thread or from any other (a sync route in a worker
        thread): the event is handed to the loop. A full queue drops the event (and the
        next flush() answers False). Raises ValueError, before any I/O, for an argument
        the service always refuses (README: "Which calls raise").
        """
        event = checks.make_event(
            account_id, metric, value=value, op=op, event_id=event_id, timestamp=timestamp
        )
        return event.id if self._sender.put(event) else None

    # The sync client's signature (ASYNC109): one way to bound a flush in both clients.
    async def flush(self, timeout: float | None = 10.0) -> bool:  # noqa: ASYNC109
        """Sends everything tracked so far and waits for it (up to `timeout` seconds; None:
        no limit). True only when every event tracked since the previous flush() was
        delivered (accepted, or a duplicate the service had counted already).

        False when any of them was not: dropped by track() (a full queue, a closed
        client), refused, or given up; each such event makes one flush() answer False,
        and is also in `stats` and handed to `on_error`. False too when `timeout` passed
        first (or the flush was cancelled): the rest stays queued, and the next flush()
        answers for it as well.
        """
        return await self._sender.flush(timeout)

    @property
    def stats(self) -> ClientStats:
        return self._delivery.stats()

    # -- accounts and prompts ----------------------------------------------------------

    async def set_plan(  # noqa: PLR0917 the SDK's public signature (sdk/python/README.md)
        self, account_id: str, plan: str | None, attributes: Mapping[str, Any] | None = None
    ) -> Account:
        """Creates or updates the account (PUT); `attributes` replace the stored ones.
        ValueError, before any I/O, for a plan or attributes that cannot be sent as JSON."""
        path = checks.account_path(account_id)
        body = checks.plan_body(plan, attributes)
        return parse_account(await self._call("PUT", path, body=body, idempotent=True))

    async def get_account(self, account_id: str) -> Account:
        """The account, its plan and its usage of every metric, with limits."""
        path = checks.account_path(account_id)
        return parse_account(await self._call("GET", path, idempotent=True))

    async def get_prompts(  # noqa: PLR0917 the SDK's public signature (sdk/python/README.md)
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
            async with asyncio.timeout(timeout):  # the whole call, not each network phase
                response = await self._http.get("/v1/prompts", params=params, timeout=timeout)
            answer = proto.prompts_or_reason(response)
        except (TimeoutError, httpx.TimeoutException):
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

    async def report_event(self, prompt_id: str, type: PromptEventType) -> None:
        """Reports what the user did with a prompt: shown, clicked, dismissed or converted."""
        path = checks.event_path(prompt_id, type)
        body = checks.json_bytes("the event", {"type": type})
        await self._call("POST", path, body=body, idempotent=False)

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

    async def _call(
        self, method: str, path: str, *, body: bytes | None = None, idempotent: bool
    ) -> Any:
        policy = self._config.retry
        headers = proto.JSON_HEADERS if body is not None else None
        attempt = 0
        while True:
            try:
                response = await self._http.request(method, path, content=body, headers=headers)
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
            await asyncio.sleep(delay)
            attempt += 1

    # -- lifetime ----------------------------------------------------------------------

    async def close(self, timeout: float = CLOSE_TIMEOUT) -> None:  # noqa: ASYNC109
        """Sends what is queued (waiting up to `timeout` seconds), then stops."""
        await self._sender.close(timeout)
        await self._http.aclose()

    async def __aenter__(self) -> AsyncNudgeClient:
        self._sender.start()
        return self

    async def __aexit__(  # noqa: PLR0917 the async context manager protocol
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()


class _AsyncSender:
    """Queues usage events and sends them from a task: by size, by interval, on flush."""

    def __init__(self, config: Config, delivery: Delivery) -> None:
        self._config = config
        self._delivery = delivery
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread_id: int | None = None  # the loop's thread
        self._task: asyncio.Task[None] | None = None
        self._work = asyncio.Event()  # a batch may be due
        self._wake = asyncio.Event()  # cuts a backoff wait short: flush or close
        self._stop = asyncio.Event()  # close's time is over: give up what is left
        self._progress = asyncio.Condition()  # flush() waits here
        self._buffer: deque[UsageEvent] = deque()
        self._sending: proto.Sending | None = None  # the batch on its way now
        self._oldest = 0.0
        self._queued = 0
        self._finished = 0
        self._flush_to = 0
        self._ledger = Ledger()  # what each flush() answers
        self._closing = False

    def start(self) -> None:
        """Starts the task on the running loop, once."""
        if self._task is None and not self._closing:
            self._loop = asyncio.get_running_loop()
            self._thread_id = threading.get_ident()
            self._task = self._loop.create_task(self._run(), name="nudge-sdk-sender")

    def put(self, event: UsageEvent) -> bool:
        if self._loop is not None and threading.get_ident() != self._thread_id:
            try:  # another thread: the loop queues it, in its own time
                self._loop.call_soon_threadsafe(self._put, event)
            except RuntimeError:  # the loop is closed
                self._ledger.dropped()
                self._delivery.dropped("the client's event loop is closed")
                return False
            return True
        with contextlib.suppress(RuntimeError):  # no running loop yet: flush or close starts it
            self.start()
        return self._put(event)

    def _put(self, event: UsageEvent) -> bool:
        if self._closing:
            self._ledger.dropped()
            self._delivery.dropped("the client is closed")
            return False
        if len(self._buffer) >= self._config.max_queue:
            self._ledger.dropped()
            self._delivery.dropped(
                f"the queue is full ({self._config.max_queue} events wait for the service;"
                " is it down or slow?)"
            )
            return False
        if not self._buffer:
            self._oldest = time.monotonic()
            self._work.set()  # the task starts the interval's clock
        self._buffer.append(event)
        self._queued += 1
        self._delivery.count("tracked")
        if len(self._buffer) == self._config.max_batch:
            self._work.set()
        return True

    async def flush(self, timeout: float | None) -> bool:  # noqa: ASYNC109
        target = self._queued
        window = self._ledger.open(target)
        settled = False
        try:
            if self._finished < target:
                self.start()
                self._flush_to = max(self._flush_to, target)
                self._work.set()
                self._wake.set()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout), self._progress:
                        await self._progress.wait_for(lambda: self._finished >= target)
            settled = self._finished >= target
        finally:  # a cancelled flush hands its events on to the next, as a timed-out one
            answer = self._ledger.close(window, settled=settled)
        return answer

    async def close(self, timeout: float) -> None:  # noqa: ASYNC109
        if self._closing:
            return
        if self._buffer:
            self.start()
        self._closing = True  # send everything now; the task ends when it is sent
        self._work.set()
        self._wake.set()
        task = self._task
        if task is None:
            return
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            self._stop.set()
            self._work.set()
            task.cancel()  # a request in flight ends now; its events are reported
            await asyncio.gather(task, return_exceptions=True)

    # -- the task ----------------------------------------------------------------------

    async def _run(self) -> None:
        http = httpx.AsyncClient(
            base_url=self._config.base_url,
            headers=self._config.headers,
            timeout=self._config.timeout,
        )
        try:
            while True:
                batch, stop = await self._next_batch()
                if batch:
                    taken: list[UsageEvent] = []
                    if stop:
                        closed = NudgeError("the client was closed before they could be sent")
                        self._delivery.failed(batch, closed, why="given up at close")
                    else:
                        taken = await self._deliver(http, batch)
                    await self._finish(batch, taken)
                if stop:
                    return
        except asyncio.CancelledError:
            rest = (self._sending.unsent() if self._sending else []) + list(self._buffer)
            self._sending = None
            self._buffer.clear()
            closed = NudgeError("the client was closed before they could be sent")
            self._delivery.failed(rest, closed, why="given up at close")
            for position in range(self._finished, self._queued):  # none of them was delivered
                self._ledger.lost(position)
            self._finished = self._queued
            async with self._progress:
                self._progress.notify_all()
            raise
        finally:
            await asyncio.shield(http.aclose())

    async def _finish(self, batch: list[UsageEvent], taken: list[UsageEvent]) -> None:
        # Batches are sent in queue order: this one starts where the last one ended.
        self._ledger.settled(self._finished, batch, taken=taken)
        self._sending = None
        self._finished += len(batch)
        async with self._progress:
            self._progress.notify_all()

    async def _next_batch(self) -> tuple[list[UsageEvent], bool]:
        """The next batch to send once one is due, and whether the task should end."""
        while True:
            if self._stop.is_set():
                rest = list(self._buffer)
                self._buffer.clear()
                return rest, True
            waiting = len(self._buffer)
            if not waiting and self._closing:
                return [], True
            now = time.monotonic()
            due = self._oldest + self._config.flush_interval
            if waiting and (
                waiting >= self._config.max_batch
                or self._closing
                or self._flush_to > self._queued - waiting
                or now >= due
            ):
                size = min(waiting, self._config.max_batch)
                return [self._buffer.popleft() for _ in range(size)], False
            self._work.clear()
            try:
                async with asyncio.timeout(due - now if waiting else None):
                    await self._work.wait()
            except TimeoutError:
                pass

    async def _deliver(self, http: httpx.AsyncClient, batch: list[UsageEvent]) -> list[UsageEvent]:
        """Sends one batch until each of its events is delivered or reported (refused,
        given up); returns the ones the service took."""
        self._wake.clear()  # only a flush or close from now on cuts a backoff short
        sending = self._sending = proto.Sending(batch, self._delivery)
        try:
            while (events := sending.next()) is not None:
                delay = sending.answered(await self._post(http, events))
                if delay is not None and not await self._pause(
                    delay, server_asked=sending.server_asked
                ):
                    closed = NudgeError("the client was closed while they waited for a retry")
                    sending.give_up(closed, "given up at close")
        except Exception as exc:  # a bug here must not stop the delivery of later batches
            proto.logger.exception("nudge: the usage sender failed")
            sending.give_up(NudgeError(f"{type(exc).__name__}: {exc}"), "SDK error")
        return sending.taken

    async def _post(self, http: httpx.AsyncClient, batch: list[UsageEvent]) -> proto.Outcome:
        content = proto.usage_content(batch)
        if not isinstance(content, bytes):
            return content
        try:
            response = await http.post("/v1/usage", content=content, headers=proto.JSON_HEADERS)
        except httpx.HTTPError as exc:
            return proto.Failed(proto.connection_error(exc, "POST /v1/usage"))
        return proto.usage_outcome(response)

    async def _pause(self, delay: float, *, server_asked: float | None) -> bool:
        """Waits before a resend; False if the client is closing for good meanwhile.

        flush() and close() cut a backoff short; a wait the service asked for
        (Retry-After) is kept.
        """
        event = self._stop if server_asked else self._wake
        try:
            async with asyncio.timeout(delay):
                await event.wait()
        except TimeoutError:
            pass
        self._wake.clear()
        return not self._stop.is_set()
