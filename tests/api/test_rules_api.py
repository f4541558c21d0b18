"""GET /v1/rules and POST /v1/rules/reload: hot swap; a broken reload keeps the last good set."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from tests.support.api_calls import rules, seats_full_title
from tests.support.clock import FakeClock

# Written here, not shared: the tests assert where the typo is (line 4, column 5).
BROKEN = """\
triggers:
  - id: seats-typo
    metric: seats
    threshhold: 50%
    prompt: {title: "x"}
"""

BROKEN_TWICE = """\
triggers:
  - id: bad-placeholder
    metric: seats
    threshold: 10%
    prompt:
      title: "{nope} seats"
  - id: bad-metric
    metric: seatz
    threshold: 10%
    prompt: {title: "hello"}
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


@pytest.fixture
async def full_team(client: httpx.AsyncClient) -> httpx.AsyncClient:
    assert (await client.put("/v1/accounts/acme", json={"plan": "free"})).status_code == 200
    event = {"id": "seats", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"}
    assert (await client.post("/v1/usage", json={"events": [event]})).status_code == 202
    return client


async def test_the_live_rules_describe_the_example_set(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    body = await rules(client)

    assert isinstance(body["version"], str) and len(body["version"]) >= 8
    assert datetime.fromisoformat(body["loaded_at"]) == clock.now
    assert set(body["metrics"]) == {"seats", "dashboards", "api_calls", "history_days"}
    assert body["metrics"]["api_calls"]["window"] == "month"
    assert set(body["plans"]) == {"free", "team", "business"}
    assert body["plans"]["free"]["limits"] == {
        "seats": 3,
        "dashboards": 3,
        "api_calls": 10000,
        "history_days": 30,
    }
    assert body["plans"]["free"]["upgrade_to"] == "team"
    assert body["plans"]["business"]["upgrade_to"] is None
    assert {t["id"] for t in body["triggers"]} == {
        "seats-almost-full",
        "seats-full",
        "api-calls-high",
        "api-calls-capped",
        "dashboards-full",
        "history-beyond-plan",
        "pql-team-outgrew-free",
    }
    full = next(t for t in body["triggers"] if t["id"] == "seats-full")
    assert full["prompt"]["title"] == "Your team is full"
    pql = next(t for t in body["triggers"] if t["id"] == "pql-team-outgrew-free")
    assert (pql["signal"], pql["prompt"], pql["mode"]) == ("pql", None, "live")
    assert pql["cooldown_seconds"] == 30 * 86400
    assert body["caps"] == []
    assert body["last_error"] is None


async def test_reloading_unchanged_files_keeps_the_version(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    before = await rules(client)
    clock.advance(minutes=5)

    answer = await client.post("/v1/rules/reload")

    assert answer.status_code == 200
    assert answer.json()["version"] == before["version"]
    assert datetime.fromisoformat(answer.json()["loaded_at"]) == clock.now


async def test_a_broken_reload_is_422_with_every_error_located(
    full_team: httpx.AsyncClient, rules_dir: Path
) -> None:
    (rules_dir / "zz-broken.yaml").write_text(BROKEN_TWICE)

    answer = await full_team.post("/v1/rules/reload")

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "rules_invalid"
    assert "last good rule set stays live" in error["message"]
    located = sorted((Path(d["file"]).name, d["line"], d["column"]) for d in error["details"])
    assert located == [("zz-broken.yaml", 6, 7), ("zz-broken.yaml", 8, 5)]
    messages = " | ".join(d["message"] for d in error["details"])
    assert '"{nope}"' in messages
    assert '"seatz"' in messages


async def test_a_broken_reload_keeps_the_last_good_set_live_and_shows_the_error(
    full_team: httpx.AsyncClient, rules_dir: Path, clock: FakeClock
) -> None:
    good = await rules(full_team)
    clock.advance(minutes=1)
    (rules_dir / "broken.yaml").write_text(BROKEN)

    assert (await full_team.post("/v1/rules/reload")).status_code == 422

    after = await rules(full_team)
    assert after["version"] == good["version"]
    assert after["loaded_at"] == good["loaded_at"]
    assert [t["id"] for t in after["triggers"]] == [t["id"] for t in good["triggers"]]
    last_error = after["last_error"]
    assert last_error is not None
    assert datetime.fromisoformat(last_error["at"]) == clock.now
    assert "error" in last_error["message"]
    [unknown_key] = [d for d in last_error["details"] if "threshhold" in d["message"]]
    assert (Path(unknown_key["file"]).name, unknown_key["line"], unknown_key["column"]) == (
        "broken.yaml",
        4,
        5,
    )
    assert await seats_full_title(full_team) == "Your team is full"


async def test_fixing_the_file_reloads_a_new_version_and_clears_the_error(
    full_team: httpx.AsyncClient, rules_dir: Path
) -> None:
    good = await rules(full_team)
    broken = rules_dir / "broken.yaml"
    broken.write_text(BROKEN)
    assert (await full_team.post("/v1/rules/reload")).status_code == 422

    broken.write_text(FIXED)
    answer = await full_team.post("/v1/rules/reload")

    assert answer.status_code == 200
    after = await rules(full_team)
    assert answer.json()["version"] == after["version"] != good["version"]
    assert after["last_error"] is None
    assert "seats-half" in {t["id"] for t in after["triggers"]}


async def test_a_valid_edit_takes_effect_on_prompts_after_reload(
    full_team: httpx.AsyncClient, rules_dir: Path
) -> None:
    core = rules_dir / "core.yaml"
    core.write_text(core.read_text().replace('"Your team is full"', '"No seats left on {plan}"'))
    assert await seats_full_title(full_team) == "Your team is full"  # not before the reload

    answer = await full_team.post("/v1/rules/reload")

    assert answer.status_code == 200
    assert await seats_full_title(full_team) == "No seats left on free"
    described = next(t for t in (await rules(full_team))["triggers"] if t["id"] == "seats-full")
    assert described["prompt"]["title"] == "No seats left on {plan}"


async def test_a_trigger_id_defined_twice_across_files_is_rejected(
    full_team: httpx.AsyncClient, rules_dir: Path
) -> None:
    (rules_dir / "again.yaml").write_text(
        "triggers:\n"
        "  - id: seats-full\n"
        "    metric: seats\n"
        "    threshold: 90%\n"
        "    prompt: {title: again}\n"
    )

    answer = await full_team.post("/v1/rules/reload")

    assert answer.status_code == 422
    details = answer.json()["error"]["details"]
    [twice] = [d for d in details if '"seats-full"' in d["message"]]
    # files are read in sorted order, so again.yaml holds the first definition
    assert Path(twice["file"]).name == "core.yaml"
    assert "defined twice" in twice["message"]
    assert "again.yaml:2" in twice["message"]
    assert await seats_full_title(full_team) == "Your team is full"


async def test_a_removed_rules_directory_keeps_the_last_good_set(
    full_team: httpx.AsyncClient, rules_dir: Path
) -> None:
    shutil.rmtree(rules_dir)

    answer = await full_team.post("/v1/rules/reload")

    assert answer.status_code == 422
    assert answer.json()["error"]["details"]
    assert await seats_full_title(full_team) == "Your team is full"
