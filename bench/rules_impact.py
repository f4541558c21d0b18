"""Benchmark: `nudge rules impact` over 100,000 accounts, the live rules against a change.

One run does everything on loopback and cleans up after itself:

1. starts its own redis-server on a free port (never the machine's Redis), or uses
   --redis-url, which must name an empty database;
2. fills it with N accounts as the service writes them: the plan mirror (70% free,
   25% team, 5% business, with an attribute), the gauges seats, dashboards and
   history_days, and this month's api_calls counter, through pipelined MSETs;
3. copies rules/ and changes it as a product manager might (seats-almost-full at 60%
   instead of 80%);
4. runs the impact command in a child process, as a user would, and prints its wall
   time, the accounts per second it reports and its peak memory (RSS).

Exit status: 0 when the benchmark ran, 1 when it could not be set up or the command
failed. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.engine import window_id  # noqa: E402
from app.store import keys  # noqa: E402
from tests.support.redis_server import RedisServer, RedisServerError  # noqa: E402

WRITE_BATCH = 2_000  # accounts per MSET
PLANS = (("free", 0.70), ("team", 0.25), ("business", 0.05))
INDUSTRIES = ("saas", "retail", "finance", "health")
# The command as `nudge rules impact` runs it, wired here so that the benchmark does not
# depend on app/cli.py's wiring.
IMPACT = (
    "import argparse, sys\n"
    "from app.commands import rules_impact\n"
    "parser = argparse.ArgumentParser(prog='nudge rules')\n"
    "rules_impact.add_parser(parser.add_subparsers())\n"
    "args = parser.parse_args(sys.argv[1:])\n"
    "sys.exit(args.run(args))\n"
)


class SetupError(RuntimeError):
    """The benchmark could not be set up; the message says what is missing."""


@contextmanager
def own_redis(tmp: Path) -> Iterator[str]:
    """A redis-server of its own, started by the test suite's launcher, with no append-only file."""
    try:
        server = RedisServer(tmp / "redis", appendonly=False)
        server.start()
    except RedisServerError as exc:
        raise SetupError(str(exc)) from None
    try:
        yield server.url
    finally:
        server.stop()


def fill(url: str, accounts: int, *, seed: int) -> float:
    """Write `accounts` accounts; return the seconds it took."""
    client = redis.Redis.from_url(url)
    if client.dbsize():
        raise SetupError(f"{url} is not empty: give --redis-url an empty database")
    rng = random.Random(seed)
    month = window_id("month", datetime.now(UTC))
    started = time.monotonic()
    for first in range(0, accounts, WRITE_BATCH):
        values: dict[str, str | float] = {}
        for n in range(first, min(first + WRITE_BATCH, accounts)):
            account = f"acct-{n:06d}"
            plan = rng.choices([p for p, _ in PLANS], weights=[w for _, w in PLANS])[0]
            mirror = {"plan": plan, "attributes": {"industry": rng.choice(INDUSTRIES)}}
            values[keys.account_key(account)] = json.dumps(mirror, separators=(",", ":"))
            values[keys.gauge_key(account, "seats")] = rng.randint(1, 30)
            values[keys.gauge_key(account, "dashboards")] = rng.randint(0, 6)
            values[keys.gauge_key(account, "history_days")] = rng.choice((7, 30, 90, 400))
            values[keys.counter_key(account, "api_calls", window_id=month)] = rng.randint(0, 12_000)
        client.mset(values)
    return time.monotonic() - started


def proposed_rules(live: Path, tmp: Path) -> Path:
    target = tmp / "proposed"
    shutil.copytree(live, target)
    core = target / "core.yaml"
    text = core.read_text()
    if "threshold: 80%" not in text:
        raise SetupError(f"{core} has no `threshold: 80%` to change")
    core.write_text(text.replace("threshold: 80%", "threshold: 60%", 1))
    return target


def run_impact(url: str, live: Path, proposed: Path) -> tuple[float, int, dict[str, object]]:
    """Wall seconds, peak RSS (KiB) and the JSON report of one impact run in a child."""
    env = {**os.environ, "REDIS_URL": url, "NUDGE_RULES_DIR": str(live)}
    env.pop("NUDGE_REDIS_CLUSTER", None)
    command = [sys.executable, "-c", IMPACT, "impact", "--rules", str(proposed), "--format", "json"]
    started = time.monotonic()
    child = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    out, err = child.communicate()
    seconds = time.monotonic() - started
    if child.returncode != 0:
        raise SetupError(f"the impact command exited {child.returncode}: {err.strip()}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    report: dict[str, object] = json.loads(out)
    return seconds, peak_kib, report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=100_000, help="default 100,000")
    parser.add_argument("--redis-url", help="an empty Redis to fill (default: start one)")
    parser.add_argument("--rules", type=Path, default=ROOT / "rules", help="the live rules")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the accounts")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nudge-impact-")))
            url = args.redis_url or stack.enter_context(own_redis(tmp))
            print(f"filling {url} with {args.accounts:,} accounts ...", flush=True)
            filled = fill(url, args.accounts, seed=args.seed)
            print(f"  written in {filled:.1f}s")
            proposed = proposed_rules(args.rules, tmp)
            print(f"nudge rules impact --rules {proposed} (live: {args.rules}) ...", flush=True)
            seconds, peak_kib, report = run_impact(url, args.rules, proposed)
    except SetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    accounts = report["accounts"]
    inner = float(str(report["seconds"]))
    rows = report["triggers"]
    assert isinstance(accounts, int) and isinstance(rows, list)
    print(f"  accounts:          {accounts:,} (changed: {report['changed']:,})")
    print(f"  command wall time: {seconds:.1f}s (Python start and rule loading included)")
    print(f"  scan + decide:     {inner:.1f}s = {accounts / inner:,.0f} accounts/s")
    print(f"  peak RSS:          {peak_kib / 1024:.0f} MiB")
    for row in rows:
        print(
            f"    {row['trigger']:<24} now {row['now']!s:>7}  proposed {row['proposed']!s:>7}"
            f"  +{row['start']:<6} -{row['stop']}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
