"""AsyncNudgeClient: the same contract as NudgeClient, with a task on the loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Sequence

import pytest
from nudge_sdk import (
    AsyncNudgeClient,
    NudgeAPIError,
    NudgeError,
    Prompt,
    RetryPolicy,
    UsageEvent,
)

from tests.support.sdk_timing import PROMPT_TIMEOUT, SLACK
from tests.support.service import Service
from tests.support.tcp_proxy import TcpProxy

FAST_RETRY = RetryPolicy(backoff_base=0.05, backoff_max=0.2)


async def _wait_until(condition: Callable[[], bool], *, seconds: float = 10) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 (the client's counters signal nothing)
            await asyncio.sleep(0.02)


async def test_tracked_usage_is_sent_in_batches_and_close_sends_the_rest(
    service: Service, async_nudge: Callable[..., AsyncNudgeClient]
) -> None:
    async with async_nudge(max_batch=3, flush_interval=60) as client:
        ids = [client.track("acme", "api_calls") for _ in range(7)]
        assert len(set(ids)) == 7
        await _wait_until(lambda: client.stats.sent == 6)
        assert client.stats.pending == 1
    assert service.usage("acme", "api_calls") == 7
    assert client.track("acme", "api_calls") is None


async def test_tracked_usage_is_sent_after_flush_interval(
    service: Service, async_nudge: Callable[..., AsyncNudgeClient]
) -> None:
    async with async_nudge(flush_interval=0.2) as client:
        client.track("acme", "seats", 2, op="set")
        await _wait_until(lambda: client.stats.sent == 1, seconds=5)
        assert service.usage("acme", "seats") == 2


async def test_a_batch_whose_answer_was_lost_is_counted_once(
    service: Service, async_nudge: Callable[..., AsyncNudgeClient]
) -> None:
    with TcpProxy(service.port) as proxy:
        async with async_nudge(proxy.url, flush_interval=60, retry=FAST_RETRY) as client:
            proxy.lose_answers(1)
            for _ in range(5):
                client.track("acme", "api_calls")
            assert await client.flush(timeout=10)
            assert (client.stats.duplicates, client.stats.retried) == (5, 1)
    assert service.usage("acme", "api_calls") == 5


async def test_usage_queued_while_the_service_is_down_is_counted_once_when_it_is_back(
    service: Service, async_nudge: Callable[..., AsyncNudgeClient]
) -> None:
    async with async_nudge(flush_interval=0.05, retry=FAST_RETRY) as client:
        service.kill()
        for _ in range(4):
            client.track("acme", "api_calls")
        await _wait_until(lambda: client.stats.retried >= 2)
        assert not await client.flush(timeout=0.3)
        assert (client.stats.pending, client.stats.failed) == (4, 0)
        service.start()
        assert await client.flush(timeout=10)
    assert service.usage("acme", "api_calls") == 4


async def test_refused_events_are_reported_and_not_retried(
    service: Service, async_nudge: Callable[..., AsyncNudgeClient]
) -> None:
    reported: list[tuple[NudgeError, Sequence[UsageEvent]]] = []
    async with async_nudge(
        flush_interval=60, on_error=lambda error, events: reported.append((error, events))
    ) as client:
        client.track("acme", "api_calls", 2)
        typo = client.track("acme", "api_callz")
        assert not await client.flush(timeout=5)
        [(error, events)] = reported
        assert isinstance(error, NudgeAPIError) and error.status == 422
        assert [event.id for event in events] == [typo]
        assert (client.stats.failed, client.stats.retried) == (1, 0)
    assert service.usage("acme", "api_calls") == 2


async def test_track_from_a_worker_thread_is_handed_to_the_loop(
    service: Service, async_nudge: Callable[..., AsyncNudgeClient]
) -> None:
    async with async_nudge(flush_interval=60) as client:
        workers = [
            threading.Thread(target=client.track, args=("acme", "api_calls")) for _ in range(20)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        await _wait_until(lambda: client.stats.tracked == 20)
    assert service.usage("acme", "api_calls") == 20


async def test_get_prompts_fails_open_within_its_timeout_when_the_service_is_frozen_or_stopped(
    service: Service, async_nudge: Callable[..., AsyncNudgeClient], caplog: pytest.LogCaptureFixture
) -> None:
    async with async_nudge(prompt_timeout=PROMPT_TIMEOUT) as client:
        await client.set_plan("acme", "free")
        client.track("acme", "seats", 3, op="set")
        assert await client.flush(timeout=5)
        [prompt] = await client.get_prompts("acme", user_id="ana")
        assert isinstance(prompt, Prompt) and prompt.trigger == "seats-full"

        service.freeze()
        try:
            started = time.monotonic()
            assert await client.get_prompts("acme", user_id="ana") == []
            assert time.monotonic() - started < PROMPT_TIMEOUT + SLACK
        finally:
            service.thaw()
        service.stop()
        started = time.monotonic()
        assert await client.get_prompts("acme", user_id="ana") == []
        assert time.monotonic() - started < PROMPT_TIMEOUT
        assert client.stats.prompt_failures == 2
    assert "get_prompts answered [] (fail open)" in caplog.text


async def test_account_calls_and_prompt_events_raise_the_services_errors(
    async_nudge: Callable[..., AsyncNudgeClient],
) -> None:
    async with async_nudge() as client:
        account = await client.set_plan("acme", "free", {"industry": "retail"})
        assert (account.plan, account.attributes) == ("free", {"industry": "retail"})
        assert (await client.get_account("acme")).usage["seats"].limit == 3
        with pytest.raises(NudgeAPIError) as raised:
            await client.set_plan("acme", "gold")
        assert (raised.value.status, raised.value.code) == (422, "invalid_request")
        client.track("acme", "seats", 3, op="set")
        assert await client.flush(timeout=5)
        [prompt] = await client.get_prompts("acme", user_id="ana")
        await client.report_event(prompt.id, "dismissed")
        assert await client.get_prompts("acme", user_id="ana") == []
        with pytest.raises(NudgeAPIError) as missing:
            await client.report_event("not-a-prompt-id", "shown")
        assert missing.value.status == 404
