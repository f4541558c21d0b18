"""A bad event costs only itself: the rest of its batch is counted, once; and flush()
answers False whenever something tracked before it was not delivered."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import pytest
from nudge_sdk import AsyncNudgeClient, NudgeClient, NudgeError, RetryPolicy, UsageEvent

from tests.support.body_limit_proxy import BodyLimitProxy
from tests.support.polling import wait_until
from tests.support.service import Service

Reports = list[tuple[NudgeError, Sequence[UsageEvent]]]


def _unencodable(event_id: str = "evt-\ud800") -> UsageEvent:
    """An event no JSON encoder can send as UTF-8. track() refuses such an event; the
    tests put it in the queue behind track's back, as a gap in its checks would."""
    return UsageEvent(event_id, "acme", "api_calls", 1, "incr", datetime.now(UTC))


def test_fifty_good_events_are_counted_once_when_track_refuses_a_bad_one_among_them(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(flush_interval=60)
    for n in range(25):
        client.track("acme", "api_calls", event_id=f"good-{n}")
    with pytest.raises(ValueError, match="event_id is not valid Unicode"):
        client.track("acme", "api_calls", event_id="\ud800")
    for n in range(25, 50):
        client.track("acme", "api_calls", event_id=f"good-{n}")

    assert client.flush(timeout=10)
    assert service.usage("acme", "api_calls") == 50
    stats = client.stats
    assert (stats.tracked, stats.sent, stats.duplicates, stats.failed) == (50, 50, 0, 0)


def test_an_event_that_cannot_be_encoded_is_dropped_alone_and_the_other_fifty_counted_once(
    service: Service, nudge: Callable[..., NudgeClient], caplog: pytest.LogCaptureFixture
) -> None:
    reported: Reports = []
    client = nudge(
        flush_interval=60, on_error=lambda error, events: reported.append((error, events))
    )
    bad = _unencodable()
    for n in range(50):
        client.track("acme", "api_calls", event_id=f"good-{n}")
        if n == 24:
            client._sender.put(bad)  # the 26th of 51 in one batch

    assert not client.flush(timeout=10)
    assert service.usage("acme", "api_calls") == 50
    [(error, events)] = reported
    assert events == [bad]
    assert "cannot be sent" in str(error)
    stats = client.stats
    assert (stats.sent, stats.duplicates, stats.failed, stats.pending) == (50, 0, 1, 0)
    assert r"event 'evt-\ud800'" in caplog.text and "not valid Unicode" in caplog.text


def test_events_the_service_refuses_cost_only_themselves_and_flush_says_so(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    reported: Reports = []
    client = nudge(
        flush_interval=60, on_error=lambda error, events: reported.append((error, events))
    )
    for n in range(50):
        client.track("acme", "api_calls")
        if n == 10:
            typo = client.track("acme", "api_callz")
        if n == 40:
            on_a_counter = client.track("acme", "api_calls", 5, op="set")

    assert not client.flush(timeout=10)
    assert service.usage("acme", "api_calls") == 50
    assert {event.id for _, events in reported for event in events} == {typo, on_a_counter}
    assert (client.stats.sent, client.stats.duplicates, client.stats.failed) == (50, 0, 2)

    client.track("acme", "api_calls")
    assert client.flush(timeout=10)  # everything since the last flush was delivered
    assert service.usage("acme", "api_calls") == 51


def test_a_flush_after_a_full_queue_dropped_events_answers_false_and_the_next_one_true(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(max_queue=5, flush_interval=60)
    ids = [client.track("acme", "api_calls") for _ in range(8)]

    assert ids.count(None) == 3
    assert not client.flush(timeout=5)
    assert service.usage("acme", "api_calls") == 5
    assert client.flush(timeout=5)  # nothing new: nothing missing
    client.track("acme", "api_calls")
    assert client.flush(timeout=5)


def test_a_flush_with_nothing_tracked_or_only_duplicates_answers_true(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(flush_interval=60)
    assert client.flush(timeout=5)
    client.track("acme", "api_calls", event_id="invite-1")
    client.track("acme", "api_calls", event_id="invite-1")  # the app's own retry

    assert client.flush(timeout=5)
    assert (client.stats.sent, client.stats.duplicates) == (2, 1)
    assert service.usage("acme", "api_calls") == 1


def test_a_flush_that_timed_out_leaves_its_events_to_the_next_flush(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(
        flush_interval=60, retry=RetryPolicy(max_time=1.5, backoff_base=0.05, backoff_max=0.1)
    )
    service.stop()
    client.track("acme", "api_calls")

    assert not client.flush(timeout=0.05)  # still being retried
    wait_until(lambda: client.stats.failed == 1, what="the event to be given up")
    assert not client.flush(timeout=5)  # the event the first flush waited for is lost
    assert client.flush(timeout=5)


def test_a_batch_over_the_services_body_limit_is_sent_in_parts_and_counted_once(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(max_batch=1000, flush_interval=60)
    for n in range(1000):  # 256 characters, 1 KB of UTF-8 each: over 1 MiB together
        client.track("acme", "api_calls", event_id=f"{n:04d}" + "😀" * 252)

    assert client.flush(timeout=30)
    assert service.usage("acme", "api_calls") == 1000
    assert (client.stats.sent, client.stats.duplicates, client.stats.failed) == (1000, 0, 0)


def test_a_413_from_a_proxy_in_front_splits_the_batch_until_it_passes(
    service: Service, nudge: Callable[..., NudgeClient], caplog: pytest.LogCaptureFixture
) -> None:
    with BodyLimitProxy(service.url, max_bytes=16 * 1024) as proxy:
        client = nudge(proxy.url, max_batch=200, flush_interval=60)
        for n in range(200):  # about 100 bytes each: 20 KB in one batch
            client.track("acme", "api_calls", event_id=f"evt-{n}")

        assert client.flush(timeout=30)
        assert proxy.refused >= 1 and max(proxy.sizes) > 16 * 1024
    assert "413 http_413" in caplog.text and "lower max_batch" in caplog.text
    assert service.usage("acme", "api_calls") == 200
    assert (client.stats.sent, client.stats.duplicates, client.stats.failed) == (200, 0, 0)


async def test_the_async_client_drops_only_the_bad_event_and_its_flush_says_so(
    service: Service, async_nudge: Callable[..., AsyncNudgeClient]
) -> None:
    reported: Reports = []
    async with async_nudge(
        flush_interval=60, on_error=lambda error, events: reported.append((error, events))
    ) as client:
        bad = _unencodable()
        for n in range(50):
            client.track("acme", "api_calls")
            if n == 24:
                client._sender.put(bad)
            if n == 30:
                client.track("acme", "api_callz")
        with pytest.raises(ValueError, match="event_id is not valid Unicode"):
            client.track("acme", "api_calls", event_id="\ud800")

        assert not await client.flush(timeout=10)
        assert service.usage("acme", "api_calls") == 50
        assert sorted(len(events) for _, events in reported) == [1, 1]
        assert (client.stats.sent, client.stats.failed) == (50, 2)
        client.track("acme", "api_calls")
        assert await client.flush(timeout=10)
    assert service.usage("acme", "api_calls") == 51


async def test_the_async_client_flush_answers_false_after_dropped_events(
    service: Service, async_nudge: Callable[..., AsyncNudgeClient]
) -> None:
    async with async_nudge(max_queue=3, flush_interval=60) as client:
        ids = [client.track("acme", "api_calls") for _ in range(5)]
        assert ids.count(None) == 2
        assert not await client.flush(timeout=5)
        assert await client.flush(timeout=5)
    assert service.usage("acme", "api_calls") == 3
