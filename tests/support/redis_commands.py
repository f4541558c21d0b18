"""What a Redis server ran, as Redis itself counts it (INFO commandstats): how a test proves
that a request took one round trip, without a counting wrapper of our own."""

from __future__ import annotations

import redis


def command_calls(stats: redis.Redis) -> dict[str, int]:
    """Calls per command since the server started, as Redis counts them."""
    info = stats.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in info.items()}


def commands_between(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """What ran between two snapshots, without the INFO calls that took them."""
    diff = {name: calls - before.get(name, 0) for name, calls in after.items()}
    return {name: calls for name, calls in diff.items() if calls and name != "info"}
