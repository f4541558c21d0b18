"""Benchmark: Nudge's GET /v1/prompts against a naive peer that only reads the same keys.

One run does everything on loopback and cleans up after itself:

1. starts its own redis-server on a free port (never the machine's Redis);
2. starts Nudge (`nudge serve`, one uvicorn worker) on that Redis with the example
   rules, a throwaway SQLite database and a fixed secret key;
3. seeds N accounts through the real API (PUT /v1/accounts, POST /v1/usage, and
   dismissals through POST /v1/prompts/{id}/events), so the keys and the mix of
   firing and quiet accounts are what production would hold;
4. starts the naive peer (bench/peer_app.py) under the same uvicorn settings;
5. loads each with the same concurrent clients (wrk, or bench/pyload.py without it)
   for a fixed time after a warm-up, in alternating order over several rounds;
6. prints requests/s and p50/p99 latency of both, their ratio, and the target.

Exit status: 0 when the benchmark ran (whether or not the target was met),
1 when it could not be set up or a server failed. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
sys.path.insert(0, str(ROOT))

from app.embedded_redis import free_port  # noqa: E402
from tests.support.redis_server import RedisServer, RedisServerError  # noqa: E402

API_KEY = "bench-secret-key-0123456789"
SIGNING_SECRET = "bench-signing-secret-0123456789-0123456789-abcdef"
ACCOUNT_PREFIX, USER_PREFIX = "acct-", "user-"
TARGET_RATIO = 0.9


class SetupError(RuntimeError):
    """The benchmark could not be set up; the message says what is missing."""


# -- processes -----------------------------------------------------------------


def pinned(command: list[str], cores: str | None) -> list[str]:
    return ["taskset", "-c", cores, *command] if cores else command


@contextmanager
def process(
    command: list[str], *, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` for the duration of the block; stop it (SIGTERM, then SIGKILL) after."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SetupError(
                f"{url} exited with {proc.returncode}; its output:\n{log.read_text()[-3000:]}"
            )
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SetupError(
        f"{url} did not become ready in {timeout:.0f} s; output:\n{log.read_text()[-3000:]}"
    )


def start_redis(stack: ExitStack, tmp: Path, cores: str | None) -> str:
    """A redis-server of its own, started by the test suite's launcher, with no append-only
    file, on `cores`."""
    try:
        server = RedisServer(tmp / "redis", appendonly=False)
        stack.callback(server.stop)
        server.start()
    except RedisServerError as exc:
        raise SetupError(str(exc)) from None
    if cores and server.process is not None:
        # Every thread of the running server (-a), as `taskset -c` at its start would.
        subprocess.run(
            ["taskset", "-a", "-p", "-c", cores, str(server.process.pid)],
            stdout=subprocess.DEVNULL,
            check=True,
        )
    return server.url


def server_env(redis_url: str, tmp: Path, log_level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUDGE_") and k != "PYTHONPATH"}
    env.update(
        REDIS_URL=redis_url,
        NUDGE_API_KEYS=API_KEY,
        NUDGE_SIGNING_SECRET=SIGNING_SECRET,
        DATABASE_URL=f"sqlite:///{tmp / 'nudge.db'}",
        NUDGE_RULES_DIR=str(ROOT / "rules"),
        NUDGE_LOG_LEVEL=log_level,
    )
    return env


def nudge_command(port: int) -> list[str]:
    script = Path(sys.executable).parent / "nudge"
    base = [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]
    return [*base, "serve", "--host", "127.0.0.1", "--port", str(port)]


def peer_command(port: int, log_level: str) -> list[str]:
    # The uvicorn settings `nudge serve` uses: one worker, loop and http "auto"
    # (uvloop, httptools), access log at the same level, proxy headers on.
    return [
        sys.executable, "-m", "uvicorn", "peer_app:app", "--app-dir", str(BENCH),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", log_level, "--proxy-headers",
    ]  # fmt: skip


# -- seeding -------------------------------------------------------------------

# Account i gets profile i % 10. Plan None: never PUT, so it has the default plan
# and no plan mirror in Redis (both cases happen in production).
PROFILES: list[tuple[str | None, dict[str, float], str]] = [
    (None, {"seats": 1, "dashboards": 1, "api_calls": 1200, "history_days": 7}, "quiet"),
    (None, {"seats": 2, "dashboards": 0, "api_calls": 40, "history_days": 14}, "quiet"),
    ("free", {"seats": 1, "dashboards": 2, "api_calls": 5000, "history_days": 20}, "quiet"),
    ("free", {"seats": 2, "dashboards": 1, "api_calls": 700, "history_days": 30}, "history"),
    ("free", {"seats": 3, "dashboards": 2, "api_calls": 3000, "history_days": 14}, "seats full"),
    (None, {"seats": 3, "dashboards": 3, "api_calls": 9000, "history_days": 7}, "3 prompts"),
    ("free", {"seats": 2, "dashboards": 3, "api_calls": 8500, "history_days": 45}, "3 prompts"),
    (
        "team",
        {"seats": 21, "dashboards": 40, "api_calls": 200_000, "history_days": 90},
        "seats almost full",
    ),
    (
        "team",
        {"seats": 10, "dashboards": 5, "api_calls": 1_000_000, "history_days": 400},
        "2 prompts",
    ),
    (
        "business",
        {"seats": 120, "dashboards": 500, "api_calls": 5_000_000, "history_days": 1000},
        "quiet",
    ),
]
GAUGES = {"seats", "dashboards", "history_days"}
USAGE_BATCH_EVENTS = 200  # 50 accounts of 4 metrics


def account_id(index: int) -> str:
    return f"{ACCOUNT_PREFIX}{index}"


async def seed(base_url: str, accounts: int, users: int) -> dict[str, Any]:
    """Seed through the real API; return what the mix looks like."""
    headers = {"Authorization": f"Bearer {API_KEY}"}
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=limits, timeout=30
    ) as client:
        gate = asyncio.Semaphore(16)

        async def put(index: int, plan: str) -> None:
            async with gate:
                response = await client.put(
                    f"/v1/accounts/{account_id(index)}", json={"plan": plan}
                )
                if response.status_code != 200:
                    raise SetupError(f"PUT account: {response.status_code} {response.text}")

        started = time.monotonic()
        await asyncio.gather(
            *(put(i, plan) for i in range(accounts) if (plan := PROFILES[i % 10][0]) is not None)
        )
        put_seconds = time.monotonic() - started

        events = [
            {
                "id": f"seed-{i}-{metric}",
                "account_id": account_id(i),
                "metric": metric,
                "value": value,
                "op": "set" if metric in GAUGES else "incr",
            }
            for i in range(accounts)
            for metric, value in PROFILES[i % 10][1].items()
        ]

        # Posted one batch at a time, of at most USAGE_BATCH_ACCOUNTS accounts: Nudge
        # applies a batch's accounts concurrently, one Redis connection each, and
        # redis-py's pool refuses more than 100 (see docs/performance.md).
        for start in range(0, len(events), USAGE_BATCH_EVENTS):
            batch = events[start : start + USAGE_BATCH_EVENTS]
            response = await client.post("/v1/usage", json={"events": batch})
            if response.status_code != 202:
                raise SetupError(f"POST usage: {response.status_code} {response.text}")

        # user-0 of every other "seats full" account dismissed that prompt.
        async def dismiss(index: int) -> None:
            async with gate:
                query = {"account_id": account_id(index), "user_id": f"{USER_PREFIX}0"}
                prompts = (await client.get("/v1/prompts", params=query)).json()["prompts"]
                if not prompts:
                    raise SetupError(
                        f"expected a prompt for {account_id(index)} before dismissing it"
                    )
                response = await client.post(
                    f"/v1/prompts/{prompts[0]['id']}/events", json={"type": "dismissed"}
                )
                if response.status_code != 202:
                    raise SetupError(f"dismiss: {response.status_code} {response.text}")

        dismissed = [i for i in range(accounts) if i % 20 == 4]
        await asyncio.gather(*(dismiss(i) for i in dismissed))

        # What the load will see: the share of requests that get at least one prompt.
        async def ask(n: int) -> dict[str, Any]:
            query = {
                "account_id": account_id(n % accounts),
                "user_id": f"{USER_PREFIX}{(n // accounts) % users}",
            }
            for _attempt in range(3):  # a busy machine can push one answer past the Redis budget
                async with gate:
                    response = await client.get("/v1/prompts", params=query)
                body: dict[str, Any] = response.json()
                if response.status_code == 200 and not body.get("degraded"):
                    return body
                await asyncio.sleep(0.2)
            raise SetupError(
                f"Nudge answered {query} with {response.status_code} {body} before the load"
            )

        bodies = await asyncio.gather(*(ask(n) for n in range(min(accounts * users, 3000))))
        with_prompts = sum(1 for b in bodies if b["prompts"])
        prompts_total = sum(len(b["prompts"]) for b in bodies)
    return {
        "accounts": accounts,
        "put_accounts": sum(1 for i in range(accounts) if PROFILES[i % 10][0] is not None),
        "put_seconds": round(put_seconds, 1),
        "usage_events": len(events),
        "dismissals": len(dismissed),
        "share_with_prompts": with_prompts / len(bodies),
        "prompts_per_answer": prompts_total / len(bodies),
    }


# -- load ----------------------------------------------------------------------


@dataclass
class Run:
    server: str
    round: int
    rps: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    requests: int
    errors: int
    cpu_us: float  # server CPU time per request: steadier than req/s on a busy machine
    degraded: int = 0
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def load(
    url: str,
    *,
    seconds: float,
    connections: int,
    accounts: int,
    users: int,
    cores: str | None,
    use_wrk: bool,
) -> dict[str, Any]:
    auth = f"Authorization: Bearer {API_KEY}"
    if use_wrk:
        command = [
            "wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "5s",
            "-H", auth, "-s", str(BENCH / "prompts.lua"), url,
            "--", str(accounts), str(users), ACCOUNT_PREFIX, USER_PREFIX,
        ]  # fmt: skip
    else:
        command = [
            sys.executable, str(BENCH / "pyload.py"), "--url", url,
            "--connections", str(connections),
            "--duration", f"{seconds:g}", "--accounts", str(accounts), "--users", str(users),
            "--account-prefix", ACCOUNT_PREFIX, "--user-prefix", USER_PREFIX, "--header", auth,
        ]  # fmt: skip
    result = subprocess.run(
        pinned(command, cores), capture_output=True, text=True, timeout=seconds + 60, check=False
    )
    summary = next((line for line in result.stdout.splitlines() if line.startswith("{")), None)
    if result.returncode != 0 or summary is None:
        raise SetupError(
            f"load generator failed ({result.returncode}): {result.stdout}\n{result.stderr}"
        )
    return dict(json.loads(summary))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def nudge_counters(base_url: str) -> dict[str, float]:
    """Degraded answers and non-200 prompt answers so far, from Nudge's /metrics."""
    text = httpx.get(f"{base_url}/metrics", timeout=5).text
    degraded = non_ok = 0.0
    for line in text.splitlines():
        if line.startswith("nudge_prompts_degraded_total"):
            degraded += float(line.split()[-1])
        elif (
            line.startswith("nudge_http_requests_total")
            and 'route="/v1/prompts"' in line
            and 'method="GET"' in line
            and not re.search(r'status="200"', line)
        ):
            non_ok += float(line.split()[-1])
    return {"degraded": degraded, "non_ok": non_ok}


def measure(
    name: str,
    base_url: str,
    pid: int,
    round_no: int,
    args: argparse.Namespace,
    cores: str | None,
    use_wrk: bool,
) -> Run:
    target = f"{base_url}/v1/prompts"
    options = dict(
        connections=args.connections,
        accounts=args.accounts,
        users=args.users,
        cores=cores,
        use_wrk=use_wrk,
    )
    load(target, seconds=args.warmup, **options)  # type: ignore[arg-type]
    before = nudge_counters(base_url) if name == "nudge" else None
    cpu_before = cpu_seconds(pid)
    raw = load(target, seconds=args.duration, **options)  # type: ignore[arg-type]
    cpu = cpu_seconds(pid) - cpu_before
    after = nudge_counters(base_url) if name == "nudge" else None
    errors = sum(raw["errors"].values())
    degraded = 0
    if before is not None and after is not None:
        degraded = int(after["degraded"] - before["degraded"])
        errors = max(errors, int(after["non_ok"] - before["non_ok"]))
    latency = raw["latency_us"]
    return Run(
        server=name,
        round=round_no,
        rps=raw["requests"] / (raw["duration_us"] / 1e6),
        p50_ms=latency["p50"] / 1000,
        p99_ms=latency["p99"] / 1000,
        p999_ms=latency["p999"] / 1000,
        requests=raw["requests"],
        errors=errors,
        cpu_us=cpu / max(raw["requests"], 1) * 1e6,
        degraded=degraded,
        raw=raw,
    )


def profile(
    base_url: str, args: argparse.Namespace, pid: int, cores: str | None, use_wrk: bool
) -> None:
    """Record py-spy on the Nudge server under the same load (an extra, unmeasured run)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print(
            "--profile: py-spy not found (pip install py-spy into the venv); skipped",
            file=sys.stderr,
        )
        return
    out = Path(args.profile)
    fmt = (
        "speedscope" if out.suffix == ".json" else ("raw" if out.suffix == ".txt" else "flamegraph")
    )
    seconds = max(int(args.duration), 5)
    spy = subprocess.Popen(
        [py_spy, "record", "--pid", str(pid), "--duration", str(seconds), "--rate", "250",
         "--format", fmt, "--output", str(out), "--nonblocking"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    time.sleep(0.5)
    load(f"{base_url}/v1/prompts", seconds=seconds, connections=args.connections,
         accounts=args.accounts,
         users=args.users, cores=cores, use_wrk=use_wrk)  # fmt: skip
    _, err = spy.communicate(timeout=60)
    print(
        f"py-spy profile of Nudge under load: {out}"
        if spy.returncode == 0
        else f"py-spy failed: {err.decode()}"
    )


# -- report --------------------------------------------------------------------


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def report(
    runs: list[Run],
    seeded: dict[str, Any],
    args: argparse.Namespace,
    cores: dict[str, str | None],
    use_wrk: bool,
) -> dict[str, Any]:
    print()
    print(f"machine: {machine()}")
    print(
        f"load: {'wrk' if use_wrk else 'bench/pyload.py'}, {args.connections} connections, "
        f"{args.warmup:g} s warm-up + {args.duration:g} s per run, {args.rounds} round(s); "
        f"pinning: server cores {cores['server'] or 'any'}, "
        f"load generator + redis cores {cores['load'] or 'any'}"
    )
    print(
        f"data: {seeded['accounts']} accounts ({seeded['put_accounts']} PUT, "
        "the rest on the default plan), "
        f"{seeded['usage_events']} usage events, {seeded['dismissals']} dismissals; "
        f"{seeded['share_with_prompts']:.0%} of requests get a prompt "
        f"({seeded['prompts_per_answer']:.2f} prompts per answer)"
    )
    print()
    header = (
        f"{'round':>5}  {'server':<6} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} "
        f"{'CPU us/req':>10} {'requests':>9} {'errors':>6} {'degraded':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in runs:
        print(
            f"{r.round:>5}  {r.server:<6} {r.rps:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.p999_ms:>9.2f} "
            f"{r.cpu_us:>10.0f} {r.requests:>9} {r.errors:>6} {r.degraded:>8}"
        )
    summary: dict[str, Any] = {}
    for name in ("nudge", "peer"):
        mine = [r for r in runs if r.server == name]
        summary[name] = {
            "rps": mean([r.rps for r in mine]),
            "p50_ms": mean([r.p50_ms for r in mine]),
            "p99_ms": mean([r.p99_ms for r in mine]),
            "p999_ms": mean([r.p999_ms for r in mine]),
            "cpu_us": mean([r.cpu_us for r in mine]),
            "errors": sum(r.errors for r in mine),
            "degraded": sum(r.degraded for r in mine),
        }
    nudge, peer = summary["nudge"], summary["peer"]
    ratio = nudge["rps"] / peer["rps"]
    p99_ratio = nudge["p99_ms"] / peer["p99_ms"]
    print("-" * len(header))
    for name in ("nudge", "peer"):
        s = summary[name]
        print(
            f"{'mean':>5}  {name:<6} {s['rps']:>9.0f} {s['p50_ms']:>8.2f} {s['p99_ms']:>8.2f} "
            f"{s['p999_ms']:>9.2f} {s['cpu_us']:>10.0f}"
        )
    met_rps = ratio >= TARGET_RATIO
    met_p99 = nudge["p99_ms"] <= peer["p99_ms"]
    # A handful of degraded answers (the 50 ms Redis budget running out on a saturated
    # event loop) do not change the figures; more than 0.1% of the requests would.
    requests = {
        name: sum(r.requests for r in runs if r.server == name) for name in ("nudge", "peer")
    }
    clean = all(
        summary[name]["errors"] + summary[name]["degraded"] <= 0.001 * requests[name]
        for name in ("nudge", "peer")
    )
    print()
    print(
        f"server CPU per request: nudge {nudge['cpu_us']:.0f} us, peer {peer['cpu_us']:.0f} us "
        f"(peer/nudge {peer['cpu_us'] / nudge['cpu_us']:.2f}: "
        "the throughput ratio where the server core is the only limit)"
    )
    print(
        f"throughput ratio nudge/peer: {ratio:.2f}  "
        f"(target >= {TARGET_RATIO:.2f}: {'met' if met_rps else 'MISSED'})"
    )
    print(
        f"p99 nudge {nudge['p99_ms']:.2f} ms vs peer {peer['p99_ms']:.2f} ms = {p99_ratio:.2f}x  "
        f"(target: no worse: {'met' if met_p99 else 'MISSED'})"
    )
    if not clean:
        print(
            "WARNING: over 0.1% errors or degraded answers during the load; "
            "the figures are not comparable",
            file=sys.stderr,
        )
    verdict = "MET" if met_rps and met_p99 and clean else "MISSED"
    print(f"target: {verdict}")
    return {
        "machine": machine(),
        "settings": {k: v for k, v in vars(args).items() if k != "json"},
        "load_generator": "wrk" if use_wrk else "pyload",
        "pinning": cores,
        "seeded": seeded,
        "runs": [{k: v for k, v in vars(r).items() if k != "raw"} for r in runs],
        "summary": summary,
        "ratio": ratio,
        "p99_ratio": p99_ratio,
        "target": verdict,
    }


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} CPU(s), {model}, {system}, Python {platform.python_version()}"


# -- main ----------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--accounts", type=int, default=10_000, help="accounts to seed (default 10000)"
    )
    parser.add_argument(
        "--users", type=int, default=3, help="user ids the load rotates through (default 3)"
    )
    parser.add_argument(
        "--duration", type=float, default=20.0, help="seconds of measured load per run (default 20)"
    )
    parser.add_argument(
        "--warmup", type=float, default=3.0, help="seconds of warm-up before each run (default 3)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds; each loads both, in alternating order (default 2)",
    )
    parser.add_argument(
        "--connections", type=int, default=64, help="concurrent keep-alive connections (default 64)"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        help="log level of both servers (default info, Nudge's default)",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="do not pin server and load generator to separate cores",
    )
    parser.add_argument(
        "--no-wrk", action="store_true", help="use bench/pyload.py even if wrk is installed"
    )
    parser.add_argument(
        "--app-root",
        help="run Nudge from the app/ package under this directory instead of the installed one "
        "(to measure a candidate change side by side; the peer and the rules stay the same)",
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    parser.add_argument(
        "--profile",
        help="after the rounds, record py-spy on Nudge under load into this file "
        "(.svg flame graph, .json speedscope, .txt collapsed stacks)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    use_wrk = shutil.which("wrk") is not None and not args.no_wrk
    if not use_wrk and not args.no_wrk:
        print(
            "wrk not found (apt-get install -y wrk); falling back to bench/pyload.py",
            file=sys.stderr,
        )
    can_pin = not args.no_pin and shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2
    last = (os.cpu_count() or 1) - 1
    cores = {
        "server": "0" if can_pin else None,
        "load": (f"1-{last}" if last > 1 else "1") if can_pin else None,
    }
    try:
        with ExitStack() as stack:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nudge-bench-")))
            redis_url = start_redis(stack, tmp, cores["load"])
            env = server_env(redis_url, tmp, args.log_level)

            nudge_env = (
                dict(env, PYTHONPATH=str(Path(args.app_root).resolve())) if args.app_root else env
            )
            nudge_url = f"http://127.0.0.1:{free_port()}"
            nudge_log = tmp / "nudge.log"
            nudge = stack.enter_context(
                process(
                    pinned(nudge_command(int(nudge_url.rsplit(":", 1)[1])), cores["server"]),
                    log=nudge_log,
                    env=nudge_env,
                )
            )
            wait_http(f"{nudge_url}/readyz", nudge, nudge_log)
            print(
                f"nudge on {nudge_url}, redis on {redis_url}; "
                f"seeding {args.accounts} accounts through the API ...",
                flush=True,
            )
            seeded = asyncio.run(seed(nudge_url, args.accounts, args.users))
            print(
                f"seeded ({seeded['put_accounts']} PUTs took {seeded['put_seconds']} s)", flush=True
            )

            peer_url = f"http://127.0.0.1:{free_port()}"
            peer_log = tmp / "peer.log"
            peer = stack.enter_context(
                process(
                    pinned(
                        peer_command(int(peer_url.rsplit(":", 1)[1]), args.log_level),
                        cores["server"],
                    ),
                    log=peer_log,
                    env=env,
                )
            )
            wait_http(f"{peer_url}/healthz", peer, peer_log)

            runs: list[Run] = []
            servers = {"nudge": (nudge_url, nudge), "peer": (peer_url, peer)}
            for round_no in range(1, args.rounds + 1):
                order = ["nudge", "peer"] if round_no % 2 else ["peer", "nudge"]
                for name in order:
                    url, proc = servers[name]
                    print(f"round {round_no}: loading {name} ...", flush=True)
                    runs.append(
                        measure(name, url, proc.pid, round_no, args, cores["load"], use_wrk)
                    )
                    if proc.poll() is not None:
                        raise SetupError(f"{name} died during the load (exit {proc.returncode})")
            results = report(runs, seeded, args, cores, use_wrk)
            if args.json:
                Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
            if args.profile:
                profile(nudge_url, args, nudge.pid, cores["load"], use_wrk)
    except SetupError as exc:
        print(f"bench: setup failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
