"""`nudge rules impact --rules NEW_DIR [--live DIR]`: what merging a rule change would do.

Decides every account in the store under the live rules and the proposed ones, and
prints per trigger how many accounts it fires for now and would fire for, and how
many start and stop. An account whose keys hold a value Nudge did not write is
skipped, and the skipped accounts are named at the end. It reports and does not
judge: exit 0 whatever the change; 1 if either rule set is invalid; 2 if the store
cannot be reached (or bad usage).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from app.commands.rule_loading import load_rules_or_report
from app.commands.settings import load_cli_settings
from app.commands.store_access import (
    NoStore,
    StoreAddress,
    open_scan,
    store_address,
)
from app.engine import RuleSet
from app.errors import StoreUnavailable
from app.services.impact import ImpactReport, TriggerImpact, measure_impact

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def add_parser(subparsers: SubParsers) -> None:
    """Add `impact` to the `nudge rules` subcommands."""
    impact = subparsers.add_parser(
        "impact",
        help="count per trigger the accounts a rule change starts or stops firing for",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    impact.add_argument(
        "--rules",
        dest="proposed",
        metavar="NEW_DIR",
        required=True,
        help="the proposed rules directory (for example a pull request's rules/)",
    )
    impact.add_argument(
        "--live", metavar="DIR", help="the live rules directory (default: NUDGE_RULES_DIR or rules)"
    )
    impact.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: a table for people (default); json: one document on stdout, for CI",
    )
    impact.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Load both rule sets, read every account, print the counts; the exit code."""
    settings = load_cli_settings()
    live_dir = str(args.live or settings.rules_dir)
    live = load_rules_or_report(live_dir, which="live ")
    proposed = load_rules_or_report(args.proposed, which="proposed ")
    if live is None or proposed is None:
        return 1
    try:
        address = store_address(settings)
    except NoStore as exc:
        print(f"nudge: {exc}", file=sys.stderr)
        return 2
    progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    started = time.monotonic()
    try:
        report = asyncio.run(_measure(address, live=live, proposed=proposed, progress=progress))
    except (StoreUnavailable, NoStore) as exc:
        _clear(progress)
        print(f"nudge: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _clear(progress)
        print("nudge: interrupted; nothing was written", file=sys.stderr)
        return 130
    seconds = time.monotonic() - started
    _clear(progress)
    if args.format == "json":
        document = {
            "live": {"dir": live_dir, "version": live.version},
            "proposed": {"dir": args.proposed, "version": proposed.version},
            **report.as_json(),
            "seconds": round(seconds, 3),
        }
        print(json.dumps(document, indent=2))
    else:
        print(render_text(report, live_dir=live_dir, proposed_dir=args.proposed))
    rate = report.accounts / seconds if seconds > 0 else 0.0
    print(
        f"read and decided {report.accounts:,} accounts from {address} in {seconds:.1f}s "
        f"({rate:,.0f} accounts/s)",
        file=sys.stderr,
    )
    if report.skipped:
        print(f"nudge: {skipped_note(report)}", file=sys.stderr)
    return 0


def skipped_note(report: ImpactReport) -> str:
    """The accounts left out of the counts, the first few by name, and why the first was."""
    count = report.skipped
    named = ", ".join(skip.account_id for skip in report.skipped_sample)
    more = ", …" if count > len(report.skipped_sample) else ""
    first = report.skipped_sample[0]
    return (
        f"{count:,} {'account' if count == 1 else 'accounts'} skipped (unreadable keys): "
        f"{named}{more}; {first.account_id}: {first.reason}"
    )


def _clear(progress: TerminalProgress | None) -> None:
    if progress is not None:
        progress.clear()


async def _measure(
    address: StoreAddress,
    *,
    live: RuleSet,
    proposed: RuleSet,
    progress: TerminalProgress | None,
) -> ImpactReport:
    async with open_scan(address) as scan:
        return await measure_impact(
            scan, live=live, proposed=proposed, now=datetime.now(UTC), progress=progress
        )


def render_text(report: ImpactReport, *, live_dir: str, proposed_dir: str) -> str:
    """The report as people read it: a header, one aligned row per trigger, a total."""
    header = [
        f"live rules:     {live_dir} (version {report.live_version})",
        f"proposed rules: {proposed_dir} (version {report.proposed_version})",
        f"accounts:       {report.accounts + report.skipped:,} in the store"
        + (f" ({report.skipped:,} skipped: unreadable keys)" if report.skipped else "")
        + f", at {report.at.strftime('%Y-%m-%d %H:%M UTC')}",
        "",
    ]
    table = [("trigger", "now", "proposed", "start", "stop")]
    table += [_row(row) for row in report.triggers]
    widths = [max(len(cells[i]) for cells in table) for i in range(len(table[0]))]
    lines = [
        "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()
        for cells in table
    ]
    if not report.triggers:
        lines.append("(neither rule set has a trigger)")
    total = (
        f"total: {report.accounts:,} accounts; a trigger fires for {report.firing_now:,} now "
        f"and would for {report.firing_proposed:,}; {report.changed:,} "
        f"{'account changes' if report.changed == 1 else 'accounts change'}"
    )
    return "\n".join([*header, *lines, "", total])


def _row(row: TriggerImpact) -> tuple[str, str, str, str, str]:
    notes: list[str] = [row.presence] if row.presence != "both" else []
    if row.kind != "prompt":
        notes.append(row.kind)
    name = row.trigger + (f" ({', '.join(notes)})" if notes else "")
    return (
        name,
        "-" if row.presence == "new" else f"{row.now:,}",
        "-" if row.presence == "removed" else f"{row.proposed:,}",
        f"+{row.started:,}" if row.started else "0",
        f"-{row.stopped:,}" if row.stopped else "0",
    )


class TerminalProgress:
    """One line on a terminal, rewritten in place: accounts found, then read, and the rate."""

    INTERVAL_SECONDS = 0.1  # redraw at most this often
    BAR = 24

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._reading_since = time.monotonic()  # the end of the listing, as far as known
        self._drawn_at = 0.0
        self._width = 0

    def listed(self, accounts: int) -> None:
        self._reading_since = time.monotonic()
        self._draw(f"listing accounts: {accounts:,} found")

    def evaluated(self, done: int, total: int) -> None:
        elapsed = time.monotonic() - self._reading_since
        rate = done / elapsed if elapsed > 0 else 0.0
        filled = self.BAR * done // total if total else self.BAR
        bar = "#" * filled + "." * (self.BAR - filled)
        self._draw(
            f"reading accounts [{bar}] {done:,}/{total:,} ({rate:,.0f}/s)", force=done == total
        )

    def clear(self) -> None:
        if self._width:
            self._stream.write("\r" + " " * self._width + "\r")
            self._stream.flush()
            self._width = 0

    def _draw(self, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._drawn_at < self.INTERVAL_SECONDS:
            return
        self._drawn_at = now
        self._stream.write("\r" + text.ljust(self._width))
        self._stream.flush()
        self._width = max(self._width, len(text))
