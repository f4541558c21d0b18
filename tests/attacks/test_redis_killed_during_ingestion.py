"""Redis killed (SIGKILL) and restarted while the Python SDK streams usage into the
service: every event tracked is counted exactly once, none lost, none doubled."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from nudge_sdk import NudgeClient, RetryPolicy

from tests.conftest import API_KEY
from tests.support.redis_server import RedisServer
from tests.support.service import StartService

ACCOUNTS = 20
EVENTS = 3000


def test_redis_killed_mid_ingestion_loses_and_doubles_nothing(
    tmp_path: Path, start_service: StartService
) -> None:
    redis = RedisServer(tmp_path / "redis")  # append-only file on, as shipped
    redis.start()
    try:
        service = start_service(redis_url=redis.url)
        client = NudgeClient(
            service.url,
            api_key=API_KEY,
            max_batch=50,
            flush_interval=0.01,
            retry=RetryPolicy(backoff_base=0.05, backoff_max=0.5, max_time=60),
        )
        tracked = threading.Event()
        expected = [0] * ACCOUNTS

        def produce() -> None:
            for n in range(EVENTS):
                account = n % ACCOUNTS
                client.track(f"acct-{account}", "api_calls", 1 + n % 3)
                expected[account] += 1 + n % 3
                if n == EVENTS // 3:
                    tracked.set()
                time.sleep(0.0005)

        producer = threading.Thread(target=produce)
        producer.start()
        assert tracked.wait(30)
        redis.kill()  # a crash of the Redis process, mid-stream
        time.sleep(1.0)
        redis.start()  # same port, same data directory
        producer.join(60)

        assert client.flush(timeout=60) is True
        stats = client.stats
        client.close()
        assert (stats.tracked, stats.failed, stats.dropped) == (EVENTS, 0, 0)
        assert stats.retried > 0, "the kill never hit a batch: the test proved nothing"
        counted = [service.usage(f"acct-{account}", "api_calls") for account in range(ACCOUNTS)]
        assert counted == expected
    finally:
        redis.kill()
