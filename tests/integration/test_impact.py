"""`nudge rules impact --rules NEW_DIR`: every account in a real Redis (a single server, and a
three-node cluster), written through the service, decided under the live and the proposed
rules; the command's table, JSON, exit codes and messages as a user sees them."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from redis.asyncio import RedisCluster as AsyncRedisCluster
from redis.crc import key_slot

from app.commands import rules_impact
from app.embedded_redis import EmbeddedRedis, free_port, url_file
from app.engine import load_rules_dir
from app.store import keys
from app.store.account_scan import AccountScan
from app.store.redis_client import StoreClient, create_redis
from app.store.redis_store import RedisStore
from tests.conftest import NudgeFactory
from tests.support.redis_cluster import RedisCluster

# The live rules of these tests, fixed here so that edits to the shipped examples do not
# move their counts: free has 3 seats, 30 days of history, 10,000 API calls a month.
LIVE_CORE = """\
metrics:
  seats: {type: gauge}
  history_days: {type: gauge}
  api_calls: {type: counter, window: month}
default_plan: free
plans:
  free: {limits: {seats: 3, history_days: 30, api_calls: 10000}, upgrade_to: team}
  team: {limits: {seats: 25, history_days: 365, api_calls: 1000000}, upgrade_to: business}
  business: {limits: {}}
triggers:
  - id: seats-almost-full
    metric: seats
    threshold: 80%
    priority: 10
    prompt: {title: "{usage} of {limit} seats used"}
  - id: seats-full
    metric: seats
    threshold: 100%
    priority: 20
    prompt: {title: "Your team is full", style: modal}
  - id: api-calls-high
    metric: api_calls
    threshold: 80%
    prompt: {title: "{percent}% of this month's API calls used"}
"""
LIVE_HISTORY = """\
triggers:
  - id: history-beyond-plan
    metric: history_days
    threshold: 100%
    prompt: {title: "{plan} keeps {limit} days of history"}
"""
SAAS_TEAMS = """\
triggers:
  - id: saas-teams
    when: 'account.industry == "saas"'
    prompt: {title: "Teams in SaaS grow fast"}
"""


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """The live rules (this module's own, in place of the shipped examples)."""
    target = tmp_path / "live"
    target.mkdir()
    (target / "core.yaml").write_text(LIVE_CORE)
    (target / "history.yaml").write_text(LIVE_HISTORY)
    return target


def impact(*argv: str) -> int:
    """`nudge rules impact ARGV`, run in this process as app/cli.py runs it."""
    parser = argparse.ArgumentParser(prog="nudge rules")
    rules_impact.add_parser(parser.add_subparsers())
    args = parser.parse_args(["impact", *argv])
    return int(args.run(args))


async def impact_off_loop(*argv: str) -> int:
    """The command runs its own event loop, as it does from a shell: give it a thread."""
    return await asyncio.to_thread(impact, *argv)


def table(out: str) -> dict[str, list[str]]:
    """The printed table: trigger (with its notes) -> [now, proposed, start, stop]."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("trigger "))
    rows = [re.split(r"\s{2,}", line) for line in lines[start + 1 : lines.index("", start)]]
    return {row[0]: row[1:] for row in rows}


def total(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("total:"))


@pytest.fixture
def store_env(monkeypatch: pytest.MonkeyPatch, redis_url: str, rules_dir: Path) -> None:
    """The environment of a shell beside the service: its Redis and its (live) rules."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.delenv("NUDGE_REDIS_CLUSTER", raising=False)
    monkeypatch.setenv("NUDGE_RULES_DIR", str(rules_dir))


@pytest.fixture
def proposed(rules_dir: Path, tmp_path: Path) -> Path:
    """The live rules, changed: seats-almost-full at 60% instead of 80%, history-beyond-plan
    removed, and a new trigger saas-teams with a condition only."""
    target = tmp_path / "proposed"
    shutil.copytree(rules_dir, target)
    core = target / "core.yaml"
    core.write_text(core.read_text().replace("threshold: 80%", "threshold: 60%", 1))
    (target / "history.yaml").unlink()
    (target / "saas.yaml").write_text(SAAS_TEAMS)
    return target


async def put(client: httpx.AsyncClient, account: str, **body: Any) -> None:
    answer = await client.put(f"/v1/accounts/{account}", json=body)
    assert answer.status_code == 200, answer.text


async def report_usage(client: httpx.AsyncClient, account: str, **levels: float) -> None:
    events = [
        {"id": f"{account}-{metric}", "account_id": account, "metric": metric, "value": value}
        | ({} if metric == "api_calls" else {"op": "set"})
        for metric, value in levels.items()
    ]
    answer = await client.post("/v1/usage", json={"events": events})
    assert answer.status_code == 202, answer.text


async def seed(client: httpx.AsyncClient) -> None:
    """Seven accounts, each telling one part of the story (free: 3 seats, 30 days of history,
    10,000 API calls a month; team: 25 seats; business: no upgrade)."""
    await put(client, "two-seats", plan="free")  # 67%: starts seats-almost-full at 60%
    await report_usage(client, "two-seats", seats=2)
    await put(client, "full", plan="free")  # seats-full in both
    await report_usage(client, "full", seats=3)
    await put(client, "long-history", plan="free")  # history-beyond-plan, which is removed
    await report_usage(client, "long-history", history_days=40)
    await put(client, "big-team", plan="team")  # 20 of 25 = 80%: in both
    await report_usage(client, "big-team", seats=20)
    await put(client, "saas", plan="free", attributes={"industry": "saas"})  # new saas-teams
    await report_usage(client, "saas", seats=1)
    await report_usage(client, "never-put", api_calls=9000)  # default plan free: 90%
    await put(client, "enterprise", plan="business")  # no upgrade_to: nothing ever fires
    await report_usage(client, "enterprise", seats=1000)


SEEDED_TABLE = {
    "seats-full": ["1", "1", "0", "0"],
    "seats-almost-full": ["1", "2", "+1", "0"],
    "api-calls-high": ["1", "1", "0", "0"],
    "saas-teams (new)": ["-", "1", "+1", "0"],
    "history-beyond-plan (removed)": ["1", "-", "0", "-1"],
}
SEEDED_TOTAL = "total: 7 accounts; a trigger fires for 4 now and would for 5; 3 accounts change"


@pytest.mark.usefixtures("store_env")
async def test_impact_prints_per_trigger_the_accounts_that_fire_start_and_stop(
    client: httpx.AsyncClient, proposed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(client)

    code = await impact_off_loop("--rules", str(proposed))

    out, err = capsys.readouterr()
    assert code == 0, err
    assert table(out) == SEEDED_TABLE
    assert total(out) == SEEDED_TOTAL
    assert "accounts:       7 in the store" in out
    assert re.search(r"read and decided 7 accounts from redis://\S+ \(REDIS_URL\) in ", err)
    assert "\r" not in err  # no progress line when stderr is not a terminal


@pytest.mark.usefixtures("store_env")
async def test_impact_as_json_for_ci(
    client: httpx.AsyncClient, proposed: Path, rules_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(client)

    code = await impact_off_loop("--rules", str(proposed), "--format", "json")

    out, err = capsys.readouterr()
    assert code == 0, err
    document = json.loads(out)
    assert document["live"] == {"dir": str(rules_dir), "version": load_rules_version(rules_dir)}
    assert document["proposed"]["version"] == load_rules_version(proposed)
    assert (document["accounts"], document["changed"]) == (7, 3)
    assert (document["firing_now"], document["firing_proposed"]) == (4, 5)
    rows = {row["trigger"]: row for row in document["triggers"]}
    assert rows["seats-almost-full"] == {
        "trigger": "seats-almost-full",
        "presence": "both",
        "kind": "prompt",
        "now": 1,
        "proposed": 2,
        "start": 1,
        "stop": 0,
    }
    assert (rows["saas-teams"]["presence"], rows["saas-teams"]["now"]) == ("new", None)
    assert (rows["history-beyond-plan"]["presence"], rows["history-beyond-plan"]["stop"]) == (
        "removed",
        1,
    )


UNREADABLE_REASON = re.compile(
    r"a key of the account holds a value Nudge did not write \(.+\); "
    r"inspect the keys nudge:\{(?P<account>[^}]+)\}:\*$"
)


async def seed_unreadable(redis_url: str) -> None:
    """Two accounts whose keys hold values Nudge did not write, as an operator's typing or
    a bad restore leaves them: a usage gauge that is no number, a plan mirror that is no
    JSON document."""
    sync = redis.Redis.from_url(redis_url)
    sync.set(keys.gauge_key("acct7", "history_days"), "oops")
    sync.set(keys.account_key("acct8"), "plan=free")


@pytest.mark.usefixtures("store_env")
async def test_accounts_with_values_nudge_did_not_write_are_skipped_and_named_at_the_end(
    client: httpx.AsyncClient, proposed: Path, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(client)
    await seed_unreadable(redis_url)

    code = await impact_off_loop("--rules", str(proposed))

    out, err = capsys.readouterr()
    assert code == 0, err
    # The seven readable accounts are counted as before; the two others are not.
    assert table(out) == SEEDED_TABLE
    assert total(out) == SEEDED_TOTAL
    assert "accounts:       9 in the store (2 skipped: unreadable keys), at " in out
    *_, decided, skipped = err.splitlines()
    assert decided.startswith("read and decided 7 accounts from redis://")
    match = re.fullmatch(
        r"nudge: 2 accounts skipped \(unreadable keys\): (acct\d), (acct\d); \1: (?P<reason>.+)",
        skipped,
    )
    assert match is not None, skipped
    assert {match[1], match[2]} == {"acct7", "acct8"}
    reason = UNREADABLE_REASON.match(match["reason"])
    assert reason is not None and reason["account"] == match[1], match["reason"]


@pytest.mark.usefixtures("store_env")
async def test_json_counts_and_names_the_skipped_accounts(
    client: httpx.AsyncClient, proposed: Path, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(client)
    await seed_unreadable(redis_url)

    code = await impact_off_loop("--rules", str(proposed), "--format", "json")

    out, err = capsys.readouterr()
    assert code == 0, err
    document = json.loads(out)
    assert (document["accounts"], document["skipped"]) == (7, 2)
    assert sorted(document["skipped_accounts"]) == ["acct7", "acct8"]
    assert (document["changed"], document["firing_now"], document["firing_proposed"]) == (3, 4, 5)
    assert err.splitlines()[-1].startswith("nudge: 2 accounts skipped (unreadable keys): acct")


@pytest.mark.usefixtures("store_env")
async def test_a_run_without_unreadable_accounts_reports_none_skipped(
    client: httpx.AsyncClient, proposed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(client)

    code = await impact_off_loop("--rules", str(proposed), "--format", "json")

    out, err = capsys.readouterr()
    assert code == 0, err
    assert (json.loads(out)["skipped"], json.loads(out)["skipped_accounts"]) == (0, [])
    assert "skipped" not in err


def load_rules_version(directory: Path) -> str:
    rules = load_rules_dir(directory).rules
    assert rules is not None
    return rules.version


@pytest.mark.usefixtures("store_env")
async def test_live_defaults_to_the_rules_dir_and_can_be_named(
    client: httpx.AsyncClient, proposed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await seed(client)

    # Proposed against itself: nothing changes, whatever the live rules are.
    code = await impact_off_loop("--rules", str(proposed), "--live", str(proposed))

    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"live rules:     {proposed} (version" in out
    assert all(row[2:] == ["0", "0"] for row in table(out).values())
    assert total(out).endswith("; 0 accounts change")


@pytest.mark.usefixtures("store_env")
async def test_a_counter_is_read_in_each_rule_sets_own_window(
    client: httpx.AsyncClient, rules_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await report_usage(client, "heavy", api_calls=9000)  # 90% of free's 10,000 this month
    daily = tmp_path / "daily"
    shutil.copytree(rules_dir, daily)
    core = daily / "core.yaml"
    core.write_text(core.read_text().replace("window: month", "window: day"))

    code = await impact_off_loop("--rules", str(daily))

    out, err = capsys.readouterr()
    assert code == 0, err
    # Today's counter of a daily window was never written: the calls made this month do
    # not carry over into it.
    assert table(out)["api-calls-high"] == ["1", "0", "0", "-1"]


@pytest.mark.usefixtures("store_env")
async def test_a_for_trigger_fires_only_where_the_stored_pending_mark_is_old_enough(
    client: httpx.AsyncClient,
    rules_dir: Path,
    tmp_path: Path,
    redis_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    held = tmp_path / "held"
    shutil.copytree(rules_dir, held)
    core = held / "core.yaml"
    core.write_text(core.read_text().replace("priority: 20", "priority: 20\n    for: 1h", 1))
    held_rules = load_rules_dir(held).rules
    assert held_rules is not None and [t.id for t in held_rules.held_triggers] == ["seats-full"]
    for account in ("since-2h", "since-10m", "no-mark-yet"):
        await report_usage(client, account, seats=3)
    now = datetime.now(UTC)
    writer = create_redis(redis_url, cluster=False, timeout_seconds=2)
    try:
        store = RedisStore.on(writer, budget_seconds=2, dedupe_ttl_hours=24)
        for account, held_for in (
            ("since-2h", timedelta(hours=2)),
            ("since-10m", timedelta(minutes=10)),
        ):
            await store.marks.mark_pending(
                account, held_rules, holding={"seats-full"}, now=now - held_for
            )
    finally:
        await writer.aclose()

    code = await impact_off_loop("--rules", str(held))

    out, err = capsys.readouterr()
    assert code == 0, err
    # Three full accounts; only the one held for two hours is past `for: 1h`. While
    # seats-full is pending it does not compete, so seats-almost-full shows instead.
    assert table(out)["seats-full"] == ["3", "1", "0", "-2"]
    assert table(out)["seats-almost-full"] == ["0", "2", "+2", "0"]


@pytest.mark.usefixtures("store_env")
async def test_the_progress_line_shows_on_a_terminal_only(
    client: httpx.AsyncClient,
    proposed: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await seed(client)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)

    code = await impact_off_loop("--rules", str(proposed))

    assert code == 0, terminal.getvalue()
    assert "\rreading accounts [########################] 7/7 (" in terminal.getvalue()
    assert table(capsys.readouterr().out) == SEEDED_TABLE  # stdout holds the report alone


class Terminal(io.StringIO):
    """stderr as a terminal would be: a TTY."""

    def isatty(self) -> bool:
        return True


async def test_an_invalid_proposed_rule_set_is_reported_with_its_location_and_exits_1(
    rules_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(rules_dir, broken)
    core = broken / "core.yaml"
    core.write_text(core.read_text().replace("threshold: 80%", "threshhold: 80%", 1))
    monkeypatch.setenv("NUDGE_RULES_DIR", str(rules_dir))
    monkeypatch.delenv("REDIS_URL", raising=False)  # rules are checked before the store

    code = await impact_off_loop("--rules", str(broken))

    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert re.search(rf"{re.escape(str(core))}:\d+:\d+: .*unknown key \"threshhold\"", err)
    assert f"the proposed rules in {broken} have 1 error(s)" in err


async def test_an_unreachable_redis_url_exits_2_naming_it(
    rules_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setenv("NUDGE_RULES_DIR", str(rules_dir))

    code = await impact_off_loop("--rules", str(rules_dir))

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.startswith(
        f"nudge: cannot reach the store at redis://127.0.0.1:{port}/0 (REDIS_URL): "
        "Redis did not answer while connecting ("
    )
    assert err.rstrip().endswith(
        "; check REDIS_URL, and that the Redis server there is up and accepts commands"
    )
    assert "retry" not in err  # the API's advice: nothing a person at a terminal can do


async def test_a_store_that_refuses_the_reads_exits_2_saying_what_to_check(
    redis_url: str,
    rules_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A Redis user that may list the keys but not read them: the PING and the SCAN pass,
    # the first pipeline of MGETs is refused.
    sync = redis.Redis.from_url(redis_url, decode_responses=True)
    sync.set(keys.gauge_key("acme", "seats"), 3)
    sync.acl_setuser(
        "impact-lister",
        enabled=True,
        passwords=["+listonly"],
        keys=["*"],
        commands=["+ping", "+scan"],
    )
    try:
        address = redis_url.replace("redis://", "redis://impact-lister:listonly@", 1)
        monkeypatch.setenv("REDIS_URL", address)
        monkeypatch.setenv("NUDGE_RULES_DIR", str(rules_dir))

        code = await impact_off_loop("--rules", str(rules_dir))
    finally:
        sync.acl_deluser("impact-lister")

    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    redacted = redis_url.replace("redis://", "redis://impact-lister:***@", 1)
    assert err.startswith(
        f"nudge: cannot read the accounts from the store at {redacted} (REDIS_URL): "
        "Redis refused a command while reading the accounts ("
    ), err
    assert "listonly" not in err  # the password is not printed
    assert err.rstrip().endswith(
        "; check REDIS_URL, and that the Redis server there is up and accepts commands"
    )
    assert "retry" not in err


async def test_without_redis_url_or_a_running_service_it_says_how_to_get_a_store(
    rules_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("NUDGE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("NUDGE_RULES_DIR", str(rules_dir))

    code = await impact_off_loop("--rules", str(rules_dir))

    err = capsys.readouterr().err
    assert code == 2
    assert "REDIS_URL is not set and no `nudge serve` is running" in err
    assert "start `nudge serve`" in err and "or set REDIS_URL" in err


async def test_it_reads_the_embedded_redis_of_a_running_service_and_says_when_it_is_gone(
    rules_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data_dir = tmp_path / "var"
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("NUDGE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("NUDGE_RULES_DIR", str(rules_dir))
    embedded = EmbeddedRedis(data_dir)
    url = embedded.start()
    try:
        assert url_file(data_dir).read_text().strip() == url
        redis.Redis.from_url(url).set(keys.gauge_key("acme", "seats"), 3)

        code = await impact_off_loop("--rules", str(rules_dir))

        out, err = capsys.readouterr()
        assert code == 0, err
        assert table(out)["seats-full"] == ["1", "1", "0", "0"]
        assert "the embedded Redis of `nudge serve`" in err
    finally:
        embedded.stop()
    assert not url_file(data_dir).exists()

    # A service killed outright leaves its URL file behind, and its redis-server is gone.
    url_file(data_dir).write_text(url + "\n")
    code = await impact_off_loop("--rules", str(rules_dir))
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot reach the store at {url} (the embedded Redis of `nudge serve`" in err
    assert err.rstrip().endswith("; is `nudge serve` still running? start it, or set REDIS_URL")
    assert "retry" not in err


# -- the store's scan, on one server and on a cluster ------------------------------------


async def test_the_scan_lists_each_account_once_and_reads_it_batch_by_batch(
    redis_url: str, rules_dir: Path
) -> None:
    sync = redis.Redis.from_url(redis_url, decode_responses=True)
    for n in range(25):
        sync.set(keys.account_key(f"acct-{n}"), json.dumps({"plan": "free", "attributes": {}}))
        sync.set(keys.gauge_key(f"acct-{n}", "seats"), n % 4)
    sync.set(keys.gauge_key("usage-only", "history_days"), 40)
    # Keys that name no account's state: not listed on their own.
    sync.set(keys.event_key("events-only", "evt-1"), 1)
    sync.set(keys.dismissal_key("dismissals-only", "ana", trigger_id="seats-full"), 1)
    sync.set("other-app:key", 1)
    rules = load_rules_dir(rules_dir).rules
    assert rules is not None
    client = create_redis(redis_url, cluster=False, timeout_seconds=2)
    try:
        scan = AccountScan(StoreClient(client, budget_seconds=2), batch_size=4, scan_count=5)
        accounts = await scan.account_ids()
        batches = [
            batch async for batch in scan.read_states(accounts, [rules], now=datetime.now(UTC))
        ]
    finally:
        await client.aclose()

    assert sorted(accounts) == sorted([*(f"acct-{n}" for n in range(25)), "usage-only"])
    assert [len(batch) for batch in batches] == [4] * 6 + [2]
    assert all(batch.unreadable == [] for batch in batches)
    states = {account: state for batch in batches for account, (state,) in batch.states}
    assert (states["acct-7"].plan, states["acct-7"].usage) == ("free", {"seats": 3.0})
    assert (states["usage-only"].plan, states["usage-only"].usage) == (None, {"history_days": 40.0})


@pytest.fixture
async def cluster_client(
    nudge_app: NudgeFactory, cluster_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with nudge_app(redis_url=cluster_url, redis_cluster=True) as http:
        yield http


async def test_impact_reads_every_account_of_a_redis_cluster(
    cluster_client: httpx.AsyncClient,
    redis_cluster: RedisCluster,
    proposed: Path,
    rules_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    accounts = [f"team-{n}" for n in range(40)]
    nodes = {
        key_slot(keys.account_key(a).encode()) * len(redis_cluster.nodes) // 16384 for a in accounts
    }
    assert len(nodes) == len(redis_cluster.nodes), "the accounts should land on every node"
    for n, account in enumerate(accounts):
        await put(cluster_client, account, plan="free")
        await report_usage(cluster_client, account, seats=2 if n % 2 else 3)
    monkeypatch.setenv("REDIS_URL", redis_cluster.url)
    monkeypatch.setenv("NUDGE_REDIS_CLUSTER", "true")
    monkeypatch.setenv("NUDGE_RULES_DIR", str(rules_dir))

    code = await impact_off_loop("--rules", str(proposed))

    out, err = capsys.readouterr()
    assert code == 0, err
    assert "accounts:       40 in the store" in out
    assert table(out)["seats-full"] == ["20", "20", "0", "0"]
    assert table(out)["seats-almost-full"] == ["0", "20", "+20", "0"]
    assert "(REDIS_URL, NUDGE_REDIS_CLUSTER=true)" in err


async def test_the_cluster_scan_covers_every_primary_in_small_batches(
    cluster_client: httpx.AsyncClient, cluster_url: str, rules_dir: Path
) -> None:
    accounts = [f"acct-{n}" for n in range(30)]
    for account in accounts:
        await report_usage(cluster_client, account, seats=1)
    rules = load_rules_dir(rules_dir).rules
    assert rules is not None
    client = AsyncRedisCluster.from_url(cluster_url, decode_responses=True)
    try:
        scan = AccountScan(StoreClient(client, budget_seconds=2), batch_size=7, scan_count=3)
        found = await scan.account_ids()
        batches = [
            batch async for batch in scan.read_states(found, [rules, rules], now=datetime.now(UTC))
        ]
    finally:
        await client.aclose()

    assert sorted(found) == sorted(accounts)
    read = {account: states for batch in batches for account, states in batch.states}
    assert sorted(read) == sorted(accounts)
    assert all(live.usage == proposed.usage == {"seats": 1.0} for live, proposed in read.values())
