"""NudgeClient.track: batches by size and interval, idempotent resends, outages, a bounded queue."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import pytest
from nudge_sdk import (
    NudgeAPIError,
    NudgeClient,
    NudgeConnectionError,
    NudgeError,
    RetryPolicy,
    UsageEvent,
)

from tests.conftest import API_KEY
from tests.support.polling import wait_until
from tests.support.redis_server import RedisServer
from tests.support.service import Service
from tests.support.tcp_proxy import TcpProxy

Reports = list[tuple[NudgeError, Sequence[UsageEvent]]]
FAST_RETRY = RetryPolicy(backoff_base=0.05, backoff_max=0.2)


def test_tracked_usage_is_sent_in_batches_of_max_batch(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(max_batch=3, flush_interval=60)
    ids = [client.track("acme", "api_calls") for _ in range(7)]

    assert len({event_id for event_id in ids if event_id}) == 7
    wait_until(lambda: client.stats.sent == 6, what="two full batches of 3")
    assert service.usage("acme", "api_calls") == 6
    assert client.stats.pending == 1  # the seventh waits for the interval or a flush
    assert client.flush(timeout=5)
    assert service.usage("acme", "api_calls") == 7
    assert client.stats.sent == 7


def test_tracked_usage_is_sent_after_flush_interval_without_a_flush(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(flush_interval=0.2)
    tracked_at = time.monotonic()
    client.track("acme", "seats", 2, op="set")

    wait_until(lambda: client.stats.sent == 1, timeout=5, what="the interval's batch")
    assert time.monotonic() - tracked_at >= 0.2
    assert service.usage("acme", "seats") == 2


def test_a_batch_whose_answer_was_lost_is_resent_with_the_same_ids_and_counted_once(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    with TcpProxy(service.port) as proxy:
        client = nudge(proxy.url, flush_interval=60, retry=FAST_RETRY)
        proxy.lose_answers(2)  # applied by the service twice over, answered to nobody
        for _ in range(5):
            client.track("acme", "api_calls")

        assert client.flush(timeout=10)
        assert proxy.lost == 2
        stats = client.stats
        assert (stats.sent, stats.duplicates, stats.retried, stats.failed) == (5, 5, 2, 0)
    assert service.usage("acme", "api_calls") == 5


def test_usage_queued_while_the_service_is_down_is_counted_once_when_it_is_back(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(flush_interval=0.05, retry=FAST_RETRY)
    client.track("acme", "api_calls", 3)
    assert client.flush(timeout=5)

    service.kill()
    for _ in range(4):
        client.track("acme", "api_calls")
    wait_until(lambda: client.stats.retried >= 2, what="resends to the stopped service")
    assert not client.flush(timeout=0.3)  # still down: the events wait, nothing is dropped
    stats = client.stats
    assert (stats.pending, stats.dropped, stats.failed) == (4, 0, 0)

    service.start()  # on the same port
    assert client.flush(timeout=10)
    assert service.usage("acme", "api_calls") == 7
    assert (client.stats.pending, client.stats.failed) == (0, 0)


def test_a_batch_that_timed_out_is_resent_and_counted_once(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(flush_interval=0.05, timeout=0.3, retry=FAST_RETRY)
    service.freeze()  # the batch reaches the service's socket; it answers after the timeout
    try:
        for _ in range(3):
            client.track("acme", "api_calls")
        wait_until(lambda: client.stats.retried >= 2, what="resends after timeouts")
    finally:
        service.thaw()
    assert client.flush(timeout=10)
    assert service.usage("acme", "api_calls") == 3
    assert (client.stats.sent, client.stats.failed) == (3, 0)


def test_a_batch_is_given_up_and_reported_after_max_time(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    reported: Reports = []
    client = nudge(
        flush_interval=0.05,
        retry=RetryPolicy(max_time=0.3, backoff_base=0.05, backoff_max=0.1),
        on_error=lambda error, events: reported.append((error, events)),
    )
    service.stop()
    event_id = client.track("acme", "api_calls")

    # on_error is the last thing a give-up does (after counting and logging it): wait for it.
    wait_until(lambda: bool(reported), what="the batch to be given up and reported")
    [(error, events)] = reported
    assert isinstance(error, NudgeConnectionError)
    assert [event.id for event in events] == [event_id]
    assert client.stats.retried >= 2 and client.stats.pending == 0


def test_events_the_service_refuses_are_reported_not_retried_and_the_rest_is_counted(
    service: Service, nudge: Callable[..., NudgeClient], caplog: pytest.LogCaptureFixture
) -> None:
    reported: Reports = []
    client = nudge(
        flush_interval=60, on_error=lambda error, events: reported.append((error, events))
    )
    client.track("acme", "api_calls", 2)
    typo = client.track("acme", "api_callz")
    set_on_a_counter = client.track("acme", "api_calls", 5, op="set")

    assert not client.flush(timeout=5)  # two of its events were not counted
    assert service.usage("acme", "api_calls") == 2
    assert {event.id for _, events in reported for event in events} == {typo, set_on_a_counter}
    for error, _ in reported:
        assert isinstance(error, NudgeAPIError)
        assert (error.status, error.code) == (422, "invalid_request")
    stats = client.stats
    assert (stats.sent, stats.failed, stats.retried, stats.pending) == (1, 2, 0, 0)
    errors = [r for r in caplog.records if r.name == "nudge_sdk" and r.levelno == logging.ERROR]
    assert errors and "not counted" in errors[0].getMessage()
    assert "api_callz" in caplog.text


def test_a_wrong_api_key_is_reported_once_and_not_retried(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    reported: Reports = []
    client = nudge(
        api_key="not-a-key", on_error=lambda error, events: reported.append((error, events))
    )
    event_id = client.track("acme", "api_calls")

    assert not client.flush(timeout=5)
    [(error, events)] = reported
    assert isinstance(error, NudgeAPIError)
    assert (error.status, error.code) == (401, "unauthorized")
    assert [event.id for event in events] == [event_id]
    assert (client.stats.failed, client.stats.retried) == (1, 0)


def resends(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The SDK's log records of a batch it will send again, oldest first."""
    return [r for r in caplog.records if r.getMessage().startswith("nudge: could not deliver")]


def test_a_503_is_resent_no_sooner_than_its_retry_after_and_nothing_is_lost(
    service: Service,
    nudge: Callable[..., NudgeClient],
    redis_server: RedisServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="nudge_sdk")
    # Backoff alone would resend within 20 ms; the service asks for 1 s.
    client = nudge(flush_interval=0.05, retry=RetryPolicy(backoff_base=0.01, backoff_max=0.02))
    redis_server.stop()
    try:
        client.track("acme", "api_calls", 3)
        # Timed by the SDK's own records of the two resends: this thread may notice the
        # first one late on a busy machine, which would shorten the gap it measured.
        wait_until(lambda: len(resends(caplog)) >= 2, what="two 503s, each logged")
        first, second = resends(caplog)[:2]
        assert second.created - first.created >= 0.95
        assert "503 store_unavailable" in first.getMessage()
        assert "as the service asked (Retry-After)" in first.getMessage()
        assert client.stats.pending == 1
    finally:
        redis_server.start()
    assert client.flush(timeout=10)
    assert service.usage("acme", "api_calls") == 3
    assert client.stats.failed == 0


def test_a_full_queue_drops_events_counts_them_and_logs_once(
    service: Service, nudge: Callable[..., NudgeClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = nudge(max_queue=5, flush_interval=60)
    ids = [client.track("acme", "api_calls") for _ in range(8)]

    assert [event_id is not None for event_id in ids] == [True] * 5 + [False] * 3
    assert (client.stats.tracked, client.stats.dropped) == (5, 3)
    drops = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(drops) == 1 and "queue is full (5 events" in drops[0]
    assert not client.flush(timeout=5)  # three of what was tracked are not delivered
    assert service.usage("acme", "api_calls") == 5


def test_track_returns_at_once_while_the_service_is_frozen(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(max_batch=10, flush_interval=0.01, timeout=30)
    service.freeze()
    try:
        slowest = 0.0
        for _ in range(500):
            started = time.perf_counter()
            client.track("acme", "api_calls")
            slowest = max(slowest, time.perf_counter() - started)
        assert slowest < 0.05
        assert client.stats.pending == 500
    finally:
        service.thaw()
    assert client.flush(timeout=20)
    assert service.usage("acme", "api_calls") == 500


def test_close_sends_what_is_queued_and_later_events_are_dropped(service: Service) -> None:
    with NudgeClient(service.url, api_key=API_KEY, flush_interval=60) as client:
        for _ in range(4):
            client.track("acme", "dashboards")
    assert service.usage("acme", "dashboards") == 4
    assert client.track("acme", "dashboards") is None
    assert client.stats.dropped == 1


def test_close_with_the_service_down_gives_up_within_its_timeout_and_reports(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    reported: Reports = []
    client = nudge(
        flush_interval=60, on_error=lambda error, events: reported.append((error, events))
    )
    service.stop()
    ids = {client.track("acme", "api_calls"), client.track("acme", "seats", 1, op="set")}

    started = time.monotonic()
    client.close(timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert {event.id for _, events in reported for event in events} == ids
    assert (client.stats.failed, client.stats.pending) == (2, 0)


def test_usage_still_queued_at_interpreter_exit_is_sent(service: Service) -> None:
    script = (
        "from nudge_sdk import NudgeClient\n"
        f"client = NudgeClient({service.url!r}, api_key={API_KEY!r}, flush_interval=60)\n"
        "for _ in range(3):\n"
        "    client.track('acme', 'api_calls')\n"
    )  # neither flush() nor close(): atexit sends them
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert service.usage("acme", "api_calls") == 3


def test_track_refuses_arguments_the_service_would_refuse(
    nudge: Callable[..., NudgeClient],
) -> None:
    client = nudge()
    with pytest.raises(ValueError, match="op must be"):
        client.track("acme", "seats", 3, op="add")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="account_id must be 1-128 characters"):
        client.track("ac{me}", "seats")
    with pytest.raises(ValueError, match="time zone"):
        client.track("acme", "seats", timestamp=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="an int or a float"):
        client.track("acme", "seats", "3")  # type: ignore[arg-type]
    assert client.stats.tracked == 0


FORKING_APP = """
import os, sys
from nudge_sdk import NudgeClient
client = NudgeClient(sys.argv[1], api_key=sys.argv[2], flush_interval=60)
client.track("acme", "api_calls", 2)
assert client.flush(timeout=10)
client.track("acme", "api_calls", 4)  # still queued in the parent when it forks
child = os.fork()  # a pre-forking server: the sender thread does not survive this
if child == 0:
    import time
    started = time.monotonic()
    flushed = client.flush(timeout=5)  # nothing of its own yet: nothing to wait for
    quick = time.monotonic() - started < 1
    client.track("acme", "api_calls", 3)
    client.close()
    ok = flushed and quick and client.stats.sent == 1 and client.stats.failed == 0
    os._exit(0 if ok else 1)
_, status = os.waitpid(child, 0)
assert os.waitstatus_to_exitcode(status) == 0, "the child waited on the parent or lost usage"
client.track("acme", "api_calls", 1)
"""


def test_a_forked_child_sends_its_own_usage_with_a_sender_of_its_own(service: Service) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FORKING_APP, service.url, API_KEY],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert service.usage("acme", "api_calls") == 10
