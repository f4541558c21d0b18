"""A `for:` hold belongs to the rules it began under: after a rule change that changes what
the trigger waits for (here its threshold), a pending mark left from before is ignored,
so the trigger holds afresh from the first report that meets the new rule. An edit that
leaves the hold alone (the prompt's wording) keeps the mark."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import NudgeFactory
from tests.support.api_calls import set_usage, triggers
from tests.support.clock import FakeClock
from tests.support.rule_sets import write_rules

BEFORE = """\
  - id: seats-held
    metric: seats
    threshold: 1
    for: 1h
    prompt: {title: "Seats in use"}
"""
RAISED = BEFORE.replace("threshold: 1", "threshold: 3")
REWORDED = BEFORE.replace("Seats in use", "Your seats")


async def reload(client: httpx.AsyncClient) -> None:
    answer = await client.post("/v1/rules/reload")
    assert answer.status_code == 200, answer.text


async def held_under_the_first_rules(client: httpx.AsyncClient, clock: FakeClock) -> None:
    """One seat in use from now; an hour later seats-held shows (the mark is made)."""
    await set_usage(client, seats=1)
    clock.advance(hours=1)
    assert await triggers(client) == ["seats-held"]


async def test_after_a_reload_that_raises_the_threshold_the_hold_starts_again(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    write_rules(rules_dir, BEFORE)
    async with nudge_app() as client:
        await held_under_the_first_rules(client, clock)
        write_rules(rules_dir, RAISED)
        await reload(client)
        assert await triggers(client) == []  # 1 seat is under the new threshold
        clock.advance(days=2)

        await set_usage(client, seats=3)

        reported = clock.now
        assert await triggers(client) == []  # pending, not fired at once
        clock.advance(minutes=59, seconds=59)
        assert await triggers(client) == []
        clock.now = reported
        clock.advance(hours=1)
        assert await triggers(client) == ["seats-held"]


async def test_a_new_app_on_edited_rules_ignores_the_old_mark_too(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    write_rules(rules_dir, BEFORE)
    async with nudge_app() as client:
        await held_under_the_first_rules(client, clock)
    write_rules(rules_dir, RAISED)
    clock.advance(days=2)

    async with nudge_app() as client:
        await set_usage(client, seats=3)
        reported = clock.now
        assert await triggers(client) == []
        clock.advance(minutes=59, seconds=59)
        assert await triggers(client) == []
        clock.now = reported
        clock.advance(hours=1)
        assert await triggers(client) == ["seats-held"]


async def test_a_signal_hold_under_new_rules_waits_its_hour_too(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    signal_only = (
        "  - id: seats-held\n    metric: seats\n    threshold: 1\n    for: 1h\n    signal: pql\n"
    )
    write_rules(rules_dir, signal_only)
    async with nudge_app() as client:
        await set_usage(client, seats=1)
        write_rules(rules_dir, signal_only.replace("threshold: 1", "threshold: 3"))
        await reload(client)
        clock.advance(days=2)

        await set_usage(client, seats=3)  # under the old mark this would record a signal now

        assert (await client.get("/v1/signals", params={"type": "pql"})).json()["signals"] == []
        clock.advance(hours=1)
        await set_usage(client, seats=3)
        [signal] = (await client.get("/v1/signals", params={"type": "pql"})).json()["signals"]
        assert signal["trigger"] == "seats-held"


@pytest.mark.parametrize("restart", [False, True], ids=["reload", "new-app"])
async def test_rewording_the_prompt_keeps_the_hold(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock, restart: bool
) -> None:
    write_rules(rules_dir, BEFORE)
    async with nudge_app() as client:
        await set_usage(client, seats=1)
        clock.advance(minutes=30)
        write_rules(rules_dir, REWORDED)
        if not restart:
            await reload(client)
            clock.advance(minutes=30)
            assert await triggers(client) == ["seats-held"]
    if restart:
        async with nudge_app() as client:
            clock.advance(minutes=30)
            await set_usage(client, seats=1)  # the hold goes on; it is not restarted
            assert await triggers(client) == ["seats-held"]
