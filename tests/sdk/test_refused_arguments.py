"""What the service always refuses, the SDK refuses at the call, before any I/O.

Text that is not valid Unicode (a lone surrogate: what `bytes.decode(errors=
"surrogateescape")` or a broken `\\ud800` JSON escape leaves in a str) can never be sent as
UTF-8. `track`, `set_plan` and `report_event` raise ValueError naming the argument;
`get_prompts` fails open and logs why. Every test sends through a proxy that counts
connections, to show that nothing reached the service.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nudge_sdk import NudgeAPIError, NudgeClient, NudgeError, UsageEvent

from tests.support.service import Service
from tests.support.tcp_proxy import TcpProxy

LONE = "\ud800"  # a high surrogate without its pair
LOW = "\udc80"  # what surrogateescape makes of the byte 0x80


@pytest.fixture
def proxy(service: Service) -> Iterator[TcpProxy]:
    with TcpProxy(service.port) as counting:
        yield counting


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"event_id": LONE}, r"event_id is not valid Unicode: a lone surrogate '\\ud800' at 0"),
        ({"event_id": "evt-" + LOW}, r"event_id is not valid Unicode: .*'\\udc80' at 4"),
        ({"account_id": "acme" + LONE}, "account_id must be 1-128 characters"),
        ({"metric": "api_calls" + LONE}, r"metric must be a metric name"),
    ],
)
def test_track_refuses_text_that_is_not_valid_unicode_before_any_io(
    nudge: Callable[..., NudgeClient],
    proxy: TcpProxy,
    arguments: dict[str, str],
    message: str,
) -> None:
    client = nudge(proxy.url, flush_interval=60)
    call = {"account_id": "acme", "metric": "api_calls", **arguments}

    with pytest.raises(ValueError, match=message):
        client.track(**call)  # type: ignore[arg-type]
    assert client.flush(timeout=5)  # nothing was tracked, so nothing is missing
    assert (client.stats.tracked, client.stats.dropped, client.stats.failed) == (0, 0, 0)
    assert proxy.connections == 0


@pytest.mark.parametrize(
    "value",
    [1e15 + 1024, -(10**16), 10**400, math.nan, math.inf, -math.inf],
    ids=["over-1e15", "under-minus-1e15", "a-400-digit-int", "nan", "inf", "minus-inf"],
)
def test_track_refuses_values_the_service_always_refuses(
    nudge: Callable[..., NudgeClient], value: float
) -> None:
    client = nudge()

    with pytest.raises(
        ValueError, match=r"value must be a finite number of at most 1e\+15 in size"
    ):
        client.track("acme", "seats", value, op="set")
    assert client.stats.tracked == 0


def test_track_takes_values_up_to_1e15_and_event_ids_in_any_script(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    client = nudge(flush_interval=60)
    client.track("acme", "seats", 10**15, op="set")
    client.track("acme", "api_calls", event_id="報告-😀-é")
    client.track("acme", "api_calls", event_id="x" * 256)

    assert client.flush(timeout=5)
    assert service.usage("acme", "seats") == 1e15
    assert service.usage("acme", "api_calls") == 2


def test_timestamps_are_left_to_the_services_clock_and_cost_only_their_own_event(
    service: Service, nudge: Callable[..., NudgeClient]
) -> None:
    reported: list[tuple[NudgeError, Sequence[UsageEvent]]] = []
    client = nudge(
        flush_interval=60, on_error=lambda error, events: reported.append((error, events))
    )
    old = client.track("acme", "api_calls", timestamp=datetime.now(UTC) - timedelta(days=40))
    for _ in range(50):
        client.track("acme", "api_calls")

    assert old is not None  # queued: this machine's clock is not the service's
    assert not client.flush(timeout=10)
    assert service.usage("acme", "api_calls") == 50
    [(error, events)] = reported
    assert [event.id for event in events] == [old]
    assert isinstance(error, NudgeAPIError) and "more than 35 days old" in str(error.details)


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"industry": LONE}, r"attributes\['industry'\] is not valid Unicode: .*'\\ud800' at 0"),
        (
            {"in" + LOW: "retail"},
            r"attributes has a key that is not valid Unicode: .* of 'in\\udc80'",
        ),
        (
            {"tags": ["ok", {"deep": "x" + LONE}]},
            r"attributes\['tags'\]\[1\]\['deep'\] is not valid Unicode: .* at 1",
        ),
        ({"score": math.nan}, r"attributes\['score'\] must be a finite number, not nan"),
        ({"since": datetime(2026, 1, 1, tzinfo=UTC)}, r"attributes\['since'\] is a datetime"),
        ({7: "lucky"}, r"attributes keys must be strings, not 7"),
    ],
)
def test_set_plan_refuses_attributes_that_cannot_be_sent_as_json_before_any_io(
    nudge: Callable[..., NudgeClient],
    proxy: TcpProxy,
    attributes: dict[Any, Any],
    message: str,
) -> None:
    client = nudge(proxy.url)

    with pytest.raises(ValueError, match=message):
        client.set_plan("acme", "team", attributes)
    assert proxy.connections == 0


def test_set_plan_refuses_a_plan_that_is_not_valid_unicode_before_any_io(
    nudge: Callable[..., NudgeClient], proxy: TcpProxy
) -> None:
    client = nudge(proxy.url)

    with pytest.raises(ValueError, match=r"plan is not valid Unicode: .*'\\ud800' at 4"):
        client.set_plan("acme", "team" + LONE)
    with pytest.raises(ValueError, match="plan must be a str or None, not 3"):
        client.set_plan("acme", 3)  # type: ignore[arg-type]
    assert proxy.connections == 0
    account = client.set_plan("acme", "team", {"industry": "réservé ✓", "seats": [1, 2.5, None]})
    assert account.attributes == {"industry": "réservé ✓", "seats": [1, 2.5, None]}


def test_report_event_refuses_a_prompt_id_that_is_not_valid_unicode_before_any_io(
    nudge: Callable[..., NudgeClient], proxy: TcpProxy
) -> None:
    client = nudge(proxy.url)

    with pytest.raises(ValueError, match=r"prompt_id is not valid Unicode: .*'\\ud800' at 3"):
        client.report_event("abc" + LONE, "shown")
    assert proxy.connections == 0


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"account_id": "acme" + LONE}, "account_id"),
        ({"user_id": LOW}, "user_id"),
        ({"placement": "members" + LONE}, "placement"),
    ],
)
def test_get_prompts_fails_open_on_text_that_is_not_valid_unicode_before_any_io(
    nudge: Callable[..., NudgeClient],
    proxy: TcpProxy,
    caplog: pytest.LogCaptureFixture,
    arguments: dict[str, str],
    named: str,
) -> None:
    client = nudge(proxy.url)
    call = {"account_id": "acme", **arguments}

    assert client.get_prompts(**call) == []
    assert proxy.connections == 0
    assert client.stats.prompt_failures == 1
    [warning] = [r for r in caplog.records if r.name == "nudge_sdk"]
    assert warning.levelno == logging.WARNING
    assert f"{named} is not valid Unicode" in warning.getMessage()
    assert not warning.exc_info  # a caller's mistake, said in one line: no traceback
