"""Fallback load generator for when `wrk` is not installed: asyncio, raw keep-alive sockets.

Same requests and the same one-line JSON summary as bench/prompts.lua, so
prompts_vs_peer.py reads either. It costs far more CPU per request than wrk, so
on a small machine it may cap the figures itself; prefer wrk.

    python bench/pyload.py --url http://127.0.0.1:8000 --connections 64 --duration 20 \
        --accounts 10000 --users 3 --header "Authorization: Bearer KEY"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
    uvloop = None


def percentile(sorted_values: list[float], share: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, int(share / 100 * len(sorted_values)))
    return sorted_values[index]


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, len(head) + len(body)


async def _client(
    index: int, args: argparse.Namespace, deadline: float, stats: dict[str, object]
) -> None:
    url = urlsplit(args.url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port or 80)
    headers = "".join(f"{h}\r\n" for h in args.header)
    counter = index * 7919
    latencies: list[float] = stats["latencies"]  # type: ignore[assignment]
    try:
        while time.monotonic() < deadline:
            counter += 1
            account = counter % args.accounts
            user = (counter // args.accounts) % args.users
            path = (
                f"/v1/prompts?account_id={args.account_prefix}{account}"
                f"&user_id={args.user_prefix}{user}"
            )
            request = f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\n{headers}\r\n".encode()
            started = time.perf_counter()
            writer.write(request)
            try:
                status, size = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                stats["read_errors"] = int(stats["read_errors"]) + 1  # type: ignore[call-overload]
                return
            latencies.append(time.perf_counter() - started)
            stats["bytes"] = int(stats["bytes"]) + size  # type: ignore[call-overload]
            if status >= 400:
                stats["status_errors"] = int(stats["status_errors"]) + 1  # type: ignore[call-overload]
    finally:
        writer.close()


async def run(args: argparse.Namespace) -> dict[str, object]:
    stats: dict[str, object] = {"latencies": [], "bytes": 0, "status_errors": 0, "read_errors": 0}
    started = time.monotonic()
    deadline = started + args.duration
    await asyncio.gather(*(_client(i, args, deadline, stats) for i in range(args.connections)))
    elapsed = time.monotonic() - started
    latencies = sorted(stats["latencies"])  # type: ignore[type-var]
    micros = [value * 1e6 for value in latencies]
    return {
        "requests": len(latencies),
        "duration_us": int(elapsed * 1e6),
        "bytes": stats["bytes"],
        "errors": {
            "connect": 0,
            "read": stats["read_errors"],
            "write": 0,
            "status": stats["status_errors"],
            "timeout": 0,
        },
        "latency_us": {
            "mean": sum(micros) / len(micros) if micros else 0.0,
            "p50": percentile(micros, 50),
            "p90": percentile(micros, 90),
            "p99": percentile(micros, 99),
            "p999": percentile(micros, 99.9),
            "max": micros[-1] if micros else 0.0,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--account-prefix", default="acct-")
    parser.add_argument("--user-prefix", default="user-")
    parser.add_argument("--header", action="append", default=[])
    args = parser.parse_args()
    if uvloop is not None:
        uvloop.install()
    print(json.dumps(asyncio.run(run(args))), flush=True)


if __name__ == "__main__":
    main()
