"""Hot reload: the service watches the rules directory and picks up edits by itself.

Real file events take real time, so these tests poll with a bounded wait (a few
seconds at most) instead of passing a clock.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.engine import load_rules_dir
from app.runtime import Runtime
from tests.conftest import NudgeFactory
from tests.support.api_calls import rules, seats_full_title
from tests.support.clock import FakeClock
from tests.support.polling import eventually

DEBOUNCE_MS = 50

# Written here, not shared: the tests assert where the typo is (line 4, column 5).
BROKEN = """\
triggers:
  - id: seats-typo
    metric: seats
    threshhold: 50%
    prompt: {title: "x"}
"""

# The broken file, fixed.
FIXED = """\
triggers:
  - id: seats-half
    metric: seats
    threshold: 50%
    placements: [nowhere]
    prompt: {title: "half"}
"""


def runtime(client: httpx.AsyncClient) -> Runtime:
    live: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return live


def reloads(client: httpx.AsyncClient, result: str) -> float:
    registry = runtime(client).metrics.registry
    return registry.get_sample_value("nudge_rules_reload_total", {"result": result}) or 0.0


def last_reload_success(client: httpx.AsyncClient) -> float | None:
    return runtime(client).metrics.registry.get_sample_value("nudge_rules_last_reload_success")


def version_of(rules_dir: Path) -> str:
    loaded = load_rules_dir(rules_dir).rules
    assert loaded is not None
    return loaded.version


def retitle(rules_dir: Path, title: str) -> None:
    core = rules_dir / "core.yaml"
    text = core.read_text()
    start = text.index('title: "', text.index("id: seats-full")) + len('title: "')
    core.write_text(text[:start] + title + text[text.index('"', start) :])


@pytest.fixture
async def watched(nudge_app: NudgeFactory) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the file watcher on, and a free account whose team is full."""
    async with nudge_app(rules_watch=True, rules_debounce_ms=DEBOUNCE_MS) as client:
        assert (await client.put("/v1/accounts/acme", json={"plan": "free"})).status_code == 200
        event = {"id": "seats", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"}
        assert (await client.post("/v1/usage", json={"events": [event]})).status_code == 202
        yield client


async def test_an_edited_rule_file_goes_live_without_any_call(
    watched: httpx.AsyncClient, rules_dir: Path, clock: FakeClock
) -> None:
    before = await rules(watched)
    clock.advance(minutes=3)

    retitle(rules_dir, "No seats left on {plan}")

    async def new_version() -> bool:
        return (await rules(watched))["version"] != before["version"]

    await eventually(new_version, what="the edit goes live")
    after = await rules(watched)
    assert after["version"] == version_of(rules_dir)
    assert datetime.fromisoformat(after["loaded_at"]) == clock.now
    assert after["last_error"] is None
    assert await seats_full_title(watched) == "No seats left on free"
    assert last_reload_success(watched) == 1


async def test_a_burst_of_edits_is_reloaded_once(nudge_app: NudgeFactory, rules_dir: Path) -> None:
    # A debounce well above the watcher's own grouping step, so the burst is one batch.
    async with nudge_app(rules_watch=True, rules_debounce_ms=300) as client:
        start = await rules(client)
        assert reloads(client, "success") == 1  # the load at start

        for n in range(6):
            retitle(rules_dir, f"Edit number {n}")
        final = version_of(rules_dir)

        async def final_version() -> bool:
            return (await rules(client))["version"] == final

        await eventually(final_version, what="the last edit of the burst goes live")
        await asyncio.sleep(0.6)  # two more debounce periods: no second reload follows

        assert final != start["version"]
        assert reloads(client, "success") == 2
        assert reloads(client, "failure") == 0


async def test_touching_a_file_without_changing_it_keeps_the_live_version(
    watched: httpx.AsyncClient, rules_dir: Path, clock: FakeClock
) -> None:
    before = await rules(watched)
    clock.advance(minutes=3)

    core = rules_dir / "core.yaml"
    core.write_text(core.read_text())

    async def reloaded() -> bool:
        return reloads(watched, "success") == 2

    await eventually(reloaded, what="the touched file is read again")
    after = await rules(watched)
    assert after["version"] == before["version"]
    assert after["loaded_at"] == before["loaded_at"]


async def test_a_rule_file_emptied_by_a_copy_cut_short_keeps_its_triggers_live(
    watched: httpx.AsyncClient, rules_dir: Path
) -> None:
    good = await rules(watched)
    core = rules_dir / "core.yaml"
    written = core.read_text()

    core.write_text("")

    async def error_shown() -> bool:
        return (await rules(watched))["last_error"] is not None

    await eventually(error_shown, what="the emptied file is reported")
    after = await rules(watched)
    assert after["version"] == good["version"]
    [detail] = after["last_error"]["details"]
    assert Path(detail["file"]).name == "core.yaml"
    assert "this rule file is empty" in detail["message"]
    assert await seats_full_title(watched) == "Your team is full"

    core.write_text(written)

    async def error_cleared() -> bool:
        return (await rules(watched))["last_error"] is None

    await eventually(error_cleared, what="the restored file clears the error")
    assert (await rules(watched))["version"] == good["version"]


async def test_a_broken_edit_keeps_the_last_good_set_live_until_it_is_fixed(
    watched: httpx.AsyncClient, rules_dir: Path, clock: FakeClock
) -> None:
    good = await rules(watched)
    clock.advance(minutes=1)
    broken = rules_dir / "broken.yaml"

    broken.write_text(BROKEN)

    async def error_shown() -> bool:
        return (await rules(watched))["last_error"] is not None

    await eventually(error_shown, what="the broken edit is reported")
    after = await rules(watched)
    assert after["version"] == good["version"]
    assert after["loaded_at"] == good["loaded_at"]
    last_error = after["last_error"]
    assert datetime.fromisoformat(last_error["at"]) == clock.now
    [typo] = [d for d in last_error["details"] if "threshhold" in d["message"]]
    assert (Path(typo["file"]).name, typo["line"], typo["column"]) == ("broken.yaml", 4, 5)
    assert await seats_full_title(watched) == "Your team is full"
    assert last_reload_success(watched) == 0

    broken.write_text(FIXED)

    async def error_cleared() -> bool:
        return (await rules(watched))["last_error"] is None

    await eventually(error_cleared, what="the fixed file goes live")
    fixed = await rules(watched)
    assert fixed["version"] != good["version"]
    assert "seats-half" in {t["id"] for t in fixed["triggers"]}
    assert last_reload_success(watched) == 1


async def test_rule_tests_and_other_files_do_not_reload_the_rules(
    watched: httpx.AsyncClient, rules_dir: Path
) -> None:
    (rules_dir / "tests").mkdir(exist_ok=True)
    (rules_dir / "tests" / "zz-watch.yaml").write_text("cases: []\n")
    (rules_dir / "NOTES.md").write_text("not a rule file\n")
    await asyncio.sleep(0.5)  # ten debounce periods

    assert reloads(watched, "success") == 1
    assert reloads(watched, "failure") == 0


async def test_with_watching_off_nothing_reloads_by_itself(
    nudge_app: NudgeFactory, rules_dir: Path
) -> None:
    async with nudge_app(rules_watch=False, rules_debounce_ms=DEBOUNCE_MS) as client:
        before = await rules(client)

        retitle(rules_dir, "No seats left on {plan}")
        await asyncio.sleep(0.5)  # ten debounce periods

        assert (await rules(client))["version"] == before["version"]
        assert reloads(client, "success") == 1
        assert (await client.post("/v1/rules/reload")).json()["version"] != before["version"]


async def test_the_watcher_stops_with_the_app(nudge_app: NudgeFactory) -> None:
    def watcher_tasks() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if t.get_name().startswith("nudge-rules")]

    async with nudge_app(rules_watch=True, rules_debounce_ms=DEBOUNCE_MS):
        await asyncio.sleep(0.05)
        assert len(watcher_tasks()) == 2  # watching, and applying changes

    assert watcher_tasks() == []


async def test_a_removed_rules_directory_keeps_the_last_good_set_until_it_is_back(
    watched: httpx.AsyncClient, rules_dir: Path, tmp_path: Path
) -> None:
    good = await rules(watched)
    kept = shutil.copytree(rules_dir, tmp_path / "kept")

    shutil.rmtree(rules_dir)

    async def error_shown() -> bool:
        return (await rules(watched))["last_error"] is not None

    await eventually(error_shown, what="the missing directory is reported")
    assert (await rules(watched))["version"] == good["version"]
    assert await seats_full_title(watched) == "Your team is full"

    retitle(kept, "Back again")
    shutil.copytree(kept, rules_dir)

    async def back() -> bool:
        body = await rules(watched)
        return body["last_error"] is None and body["version"] != good["version"]

    await eventually(back, what="the restored directory goes live")
    assert await seats_full_title(watched) == "Back again"
