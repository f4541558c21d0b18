"""`nudge rules explain ACCOUNT`: every trigger for an account's user, read from a real Redis.

The account's state is written with the service's own RedisStore (usage, the plan
mirror, a dismissal, impressions, pending marks), then the command runs in a subprocess
as a person would run it, with REDIS_URL or the embedded Redis's URL file.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.embedded_redis import url_file
from app.engine import RuleSet, load_rules_dir
from app.store import keys
from app.store.redis_client import create_redis
from app.store.redis_store import RedisStore
from app.store.usage_counters import UsageWrite
from tests.support.nudge_cli import run_nudge
from tests.support.rule_sets import rule_set

# The explain tests' core rules (tests/support/rules/explain_core.yaml), and three
# triggers more: a signal, a shadow and a hold.
MORE_RULES = """\
triggers:
  - id: seats-pql
    metric: seats
    threshold: 100%
    signal: pql
  - id: dashboards-shadow
    metric: dashboards
    threshold: 1
    mode: shadow
    prompt: {style: toast, title: "Trying a dashboards toast"}
  - id: dashboards-busy
    metric: dashboards
    threshold: 2
    for: 1h
    prompt: {style: inline, title: "Busy with dashboards"}
"""
HEADER = re.compile(
    r"account:   acme\n"
    r"plan:      free\n"
    r"user:      (?P<user>.+)\n"
    r"placement: (?P<placement>.+)\n"
    r"rules:     (?P<dir>.+) \(version (?P<version>[0-9a-f]+)\)\n"
    r"at:        (?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC\n"
    r"usage:     (?P<usage>.+)\n\n"
)


@pytest.fixture
def rules_path(tmp_path: Path) -> Path:
    directory = tmp_path / "explain-rules"
    directory.mkdir()
    (directory / "core.yaml").write_text(rule_set("explain_core.yaml"), encoding="utf-8")
    (directory / "more.yaml").write_text(MORE_RULES, encoding="utf-8")
    return directory


@pytest.fixture
def rules(rules_path: Path) -> RuleSet:
    loaded = load_rules_dir(rules_path)
    assert loaded.rules is not None, [str(p) for p in loaded.problems]
    return loaded.rules


@pytest.fixture
async def store(redis_url: str) -> AsyncIterator[RedisStore]:
    """The service's store on the suite's real redis-server (flushed for this test)."""
    redis = create_redis(redis_url, cluster=False, timeout_seconds=5)
    yield RedisStore.on(redis, budget_seconds=5, dedupe_ttl_hours=24)
    await redis.aclose()


async def set_usage(store: RedisStore, account_id: str, **levels: float) -> None:
    """Gauges set to a level, api_calls counted in this month's window."""
    now = datetime.now(UTC)
    writes = [
        UsageWrite(
            event_id=f"{metric}-{value}",
            metric=metric,
            op="incr" if metric == "api_calls" else "set",
            value=value,
            window="month" if metric == "api_calls" else None,
            at=now,
        )
        for metric, value in levels.items()
    ]
    await store.usage.apply({account_id: writes}, now=now)


def explain(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    done = run_nudge("rules", "explain", *args, env=env)
    return done.returncode, done.stdout, done.stderr


WIDTH = len("seats-almost-full")  # the longest trigger id of the rules


def line(mark: str, trigger: str, reason: str) -> str:
    """A trigger's line: its mark, its id padded, its reason."""
    return f"{mark} {trigger.ljust(WIDTH)}  {reason}"


def minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@pytest.fixture
def env(redis_url: str, rules_path: Path, tmp_path: Path) -> dict[str, str]:
    return {
        "REDIS_URL": redis_url,
        "NUDGE_RULES_DIR": str(rules_path),
        "NUDGE_DATA_DIR": str(tmp_path / "var"),
    }


async def test_text_marks_each_trigger_and_gives_its_reason(
    store: RedisStore, rules: RuleSet, rules_path: Path, env: dict[str, str]
) -> None:
    await store.mirrors.write("acme", plan="free", attributes={})
    await set_usage(store, "acme", seats=3, api_calls=8500, dashboards=1)
    dismissed_at = datetime.now(UTC) - timedelta(hours=2)
    await store.history.dismiss(
        "acme", "ana", trigger_id="seats-full", at=dismissed_at, cooldown=timedelta(days=1)
    )

    code, out, err = explain("acme", "--user", "ana", env=env)

    assert (code, err) == (0, "")
    header = HEADER.match(out)
    assert header is not None, out
    assert header["user"] == "ana"
    assert header["placement"] == "(none)"
    assert (header["dir"], header["version"]) == (str(rules_path), rules.version)
    started = datetime.strptime(header["at"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    assert abs(started - datetime.now(UTC)) < timedelta(minutes=1)
    assert header["usage"] == "seats 3 of 3, dashboards 1 of 3, api_calls 8500 of 10000"
    body = out[header.end() :].splitlines()
    assert body == [
        line("·", "api-calls-capped", "below threshold: 8500 of 10000 api_calls = 85% < 100%"),
        line(
            "◐",
            "seats-full",
            f"cooldown until {minute(dismissed_at + timedelta(days=1))}: "
            f"dismissed at {minute(dismissed_at)} (cooldown 1d)",
        ),
        line("✓", "api-calls-high", "shown: 8500 of 10000 api_calls = 85% >= 80%"),
        line(
            "·",
            "seats-almost-full",
            "shadowed by seats-full, which also fires on seats (one prompt per metric: "
            "highest threshold, then priority, then id); seats-full is held back for this "
            "user (cooldown), so nothing about seats shows",
        ),
        line("·", "dashboards-busy", "below threshold: dashboards at 1 < 2"),
        line(
            "~",
            "dashboards-shadow",
            "shadow mode: would be shown (dashboards at 1 >= 1), counted in metrics only",
        ),
        line("⚑", "seats-pql", "fires: records a pql signal (3 of 3 seats = 100% >= 100%)"),
        "",
        "prompts: api-calls-high",
        "signals: seats-pql",
    ]


async def test_another_user_and_a_placement(store: RedisStore, env: dict[str, str]) -> None:
    await store.mirrors.write("acme", plan="team", attributes={})
    await set_usage(store, "acme", seats=20)
    await store.history.dismiss(
        "acme",
        "ana",
        trigger_id="seats-almost-full",
        at=datetime.now(UTC),
        cooldown=timedelta(days=3),
    )

    code, out, _ = explain("acme", "--user", "bob", "--placement", "api", env=env)

    assert code == 0
    assert "user:      bob\nplacement: api\n" in out
    mismatch = "placement mismatch: shows in global, members, not in api"
    assert line("·", "seats-almost-full", mismatch) + "\n" in out
    assert out.endswith("prompts: none\nsignals: none\n")

    code, out, _ = explain("acme", "--user", "bob", "--placement", "members", env=env)
    assert line("✓", "seats-almost-full", "shown: 20 of 25 seats = 80% >= 80%") + "\n" in out
    assert "prompts: seats-almost-full\n" in out


async def test_a_for_trigger_pending_since_its_mark(
    store: RedisStore, rules: RuleSet, env: dict[str, str]
) -> None:
    since = datetime.now(UTC) - timedelta(minutes=15)
    await set_usage(store, "acme", dashboards=2)
    await store.marks.mark_pending("acme", rules, holding={"dashboards-busy"}, now=since)

    code, out, _ = explain("acme", env=env)

    assert code == 0
    assert "plan:      free (the rules' default_plan: the account was never PUT)\n" in out
    pending = (
        f"pending since {minute(since)}: fires at {minute(since + timedelta(hours=1))} "
        "if it still holds (for: 1h)"
    )
    assert line("·", "dashboards-busy", pending) + "\n" in out


async def test_json_is_the_api_document(
    store: RedisStore, rules: RuleSet, env: dict[str, str]
) -> None:
    await store.mirrors.write("acme", plan="free", attributes={})
    await set_usage(store, "acme", seats=2)

    code, out, _ = explain("acme", "--format", "json", "--placement", "members", env=env)

    assert code == 0
    document = json.loads(out)
    assert {k: v for k, v in document.items() if k not in ("triggers", "at")} == {
        "account_id": "acme",
        "plan": "free",
        "plan_is_default": False,
        "rules_version": rules.version,
        "user_id": None,
        "placement": "members",
        "usage": {"seats": 2, "dashboards": 0, "api_calls": 0},
        "prompts": [],
        "signals": [],
    }
    assert document["at"].endswith("Z")
    assert document["triggers"][1] == {
        "trigger": "seats-full",
        "outcome": "below_threshold",
        "fires": False,
        "signal": False,
        "reason": "below threshold: 2 of 3 seats = 67% < 100%",
    }
    assert [t["trigger"] for t in document["triggers"]] == [t.id for t in rules.triggers]


async def test_the_embedded_redis_of_a_running_serve_is_found_by_its_url_file(
    store: RedisStore,
    redis_url: str,
    rules_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    data_dir = tmp_path / "var"
    url_file(data_dir).parent.mkdir(parents=True)
    url_file(data_dir).write_text(redis_url + "\n")
    await store.mirrors.write("acme", plan="business", attributes={})

    code, out, err = explain(
        "acme", env={"NUDGE_RULES_DIR": str(rules_path), "NUDGE_DATA_DIR": str(data_dir)}
    )

    assert (code, err) == (0, "")
    assert "plan:      business\n" in out
    assert line("·", "seats-full", "plan business has no upgrade_to") in out


def test_no_store_is_exit_2_saying_what_to_start_or_set(
    rules_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    data_dir = tmp_path / "var"

    code, out, err = explain(
        "acme", env={"NUDGE_RULES_DIR": str(rules_path), "NUDGE_DATA_DIR": str(data_dir)}
    )

    assert (code, out) == (2, "")
    assert err.startswith("nudge: no store to read: REDIS_URL is not set")
    assert f"({url_file(data_dir)} does not exist)" in err


def test_a_store_that_does_not_answer_is_exit_2(rules_path: Path, tmp_path: Path) -> None:
    env = {
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "NUDGE_RULES_DIR": str(rules_path),
        "NUDGE_DATA_DIR": str(tmp_path / "var"),
    }

    code, out, err = explain("acme", env=env)

    assert (code, out) == (2, "")
    assert err.startswith(
        "nudge: cannot reach the store at redis://127.0.0.1:1/0 (REDIS_URL): "
        "Redis did not answer while connecting ("
    )
    assert err.rstrip().endswith(
        "; check REDIS_URL, and that the Redis server there is up and accepts commands"
    )
    assert "retry" not in err  # the API's advice: nothing a person at a terminal can do


def test_a_url_file_left_by_a_stopped_serve_says_to_start_it(
    rules_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    data_dir = tmp_path / "var"
    url_file(data_dir).parent.mkdir(parents=True)
    url_file(data_dir).write_text("redis://127.0.0.1:1/0\n")  # its redis-server is gone

    code, out, err = explain(
        "acme", env={"NUDGE_RULES_DIR": str(rules_path), "NUDGE_DATA_DIR": str(data_dir)}
    )

    assert (code, out) == (2, "")
    assert err.startswith(
        "nudge: cannot reach the store at redis://127.0.0.1:1/0 (the embedded Redis of "
        f"`nudge serve`, from {url_file(data_dir)}): Redis did not answer while connecting ("
    )
    assert err.rstrip().endswith("; is `nudge serve` still running? start it, or set REDIS_URL")
    assert "retry" not in err


async def test_an_account_key_nudge_did_not_write_is_named_with_the_keys_to_inspect(
    store: RedisStore, redis_url: str, env: dict[str, str]
) -> None:
    await store.mirrors.write("acme", plan="free", attributes={})
    await set_usage(store, "acme", seats=2)
    writer = create_redis(redis_url, cluster=False, timeout_seconds=5)
    try:
        await writer.set(keys.gauge_key("acme", "dashboards"), "oops")
    finally:
        await writer.aclose()

    code, out, err = explain("acme", env=env)

    assert (code, out) == (2, "")
    assert err.startswith(
        f"nudge: cannot read the account from the store at {redis_url} (REDIS_URL): "
        "a key of the account holds a value Nudge did not write ("
    )
    assert err.rstrip().endswith("; inspect the keys nudge:{acme}:*")


def test_invalid_rules_are_exit_1_with_the_error_located(
    rules_path: Path, env: dict[str, str]
) -> None:
    rules_file = rules_path / "core.yaml"
    rules_file.write_text(rules_file.read_text().replace("threshold: 80%", "threshhold: 80%", 1))

    code, out, err = explain("acme", env=env)

    assert (code, out) == (1, "")
    assert f"{rules_file}:" in err
    assert "threshhold" in err
    assert err.rstrip().endswith(f"(`nudge rules check {rules_path}` lists them) and run again")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["a:b"], 'nudge: ACCOUNT "a:b": an account id is 1-128 characters of A-Z a-z 0-9'),
        (["acme", "--user", "{x}"], 'nudge: --user "{x}": a user id is 1-128 characters'),
        (["acme", "--placement", ""], "nudge: --placement: a placement is 1-64 characters"),
    ],
    ids=["account", "user", "placement"],
)
def test_bad_arguments_are_exit_2(args: list[str], message: str, env: dict[str, str]) -> None:
    code, out, err = explain(*args, env=env)

    assert (code, out) == (2, "")
    assert err.startswith(message)
