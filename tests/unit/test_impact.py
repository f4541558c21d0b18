"""`nudge rules impact`'s counting: per trigger, the accounts it fires for under the live
and the proposed rules, and those it starts and stops firing for (pure: no store)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import timedelta

from app.commands.rules_impact import TerminalProgress, render_text, skipped_note
from app.engine.model.rule_set import RuleSet
from app.engine.model.state import AccountState
from app.services.impact import ImpactReport, ImpactTally, TriggerImpact, tally
from app.store.account_scan import Unreadable
from tests.support.evaluation import NOW
from tests.support.rule_sets import trigger, with_triggers

SEATS_FULL = trigger("seats-full", threshold="100%", extra="priority: 20")


def seats_almost_full(threshold: str) -> str:
    return trigger("seats-almost-full", threshold=threshold, extra="priority: 10")


def account(
    seats: float, *, plan: str | None = None, held: Mapping[str, timedelta] | None = None
) -> AccountState:
    """A free account (by default) with `seats` used; `held`: trigger -> held for how long."""
    return AccountState(
        plan=plan,
        usage={"seats": seats},
        dismissed_at={},
        pending_since={name: NOW - time for name, time in (held or {}).items()},
    )


def counts(report: ImpactReport) -> dict[str, tuple[int, int, int, int]]:
    """trigger -> (now, proposed, start, stop)"""
    return {
        row.trigger: (row.now, row.proposed, row.started, row.stopped) for row in report.triggers
    }


def impact(live: RuleSet, proposed: RuleSet, accounts: list[AccountState]) -> ImpactReport:
    return tally(live, proposed, states=[(state, state) for state in accounts], now=NOW)


def test_a_lower_threshold_starts_firing_for_the_accounts_between_the_two_levels() -> None:
    live = with_triggers(SEATS_FULL + seats_almost_full("80%"))
    proposed = with_triggers(SEATS_FULL + seats_almost_full("60%"))
    # free has 3 seats: 1 seat is 33%, 2 seats 67% (>= 60%, < 80%), 3 seats 100%.
    accounts = [account(0), account(1), account(2), account(2), account(3)]

    report = impact(live, proposed, accounts)

    assert counts(report) == {"seats-full": (1, 1, 0, 0), "seats-almost-full": (0, 2, 2, 0)}
    assert (report.accounts, report.changed) == (5, 2)
    assert (report.firing_now, report.firing_proposed) == (1, 3)


def test_a_trigger_that_loses_its_metric_to_a_higher_threshold_does_not_count_as_firing() -> None:
    rules = with_triggers(SEATS_FULL + seats_almost_full("80%"))
    report = impact(rules, rules, [account(3)])
    assert counts(report)["seats-almost-full"] == (0, 0, 0, 0)
    assert counts(report)["seats-full"] == (1, 1, 0, 0)
    assert report.changed == 0


def test_new_and_removed_triggers_are_marked_and_counted_on_their_side_only() -> None:
    live = with_triggers(SEATS_FULL + trigger("api-high", metric="api_calls", threshold="80%"))
    proposed = with_triggers(SEATS_FULL + trigger("seats-two", threshold="2"))
    accounts = [
        AccountState(plan=None, usage={"seats": 2, "api_calls": 90}, dismissed_at={}),
        AccountState(plan=None, usage={"seats": 3}, dismissed_at={}),
    ]

    report = impact(live, proposed, accounts)

    rows = {row.trigger: row for row in report.triggers}
    assert [row.trigger for row in report.triggers] == ["seats-full", "seats-two", "api-high"]
    assert (rows["seats-two"].presence, rows["api-high"].presence) == ("new", "removed")
    # seats-two (an absolute 2) and seats-full (3 of 3) share the metric: at 3 seats the
    # higher level wins, so seats-two only fires for the account at 2.
    assert counts(report) == {
        "seats-full": (1, 1, 0, 0),
        "seats-two": (0, 1, 1, 0),
        "api-high": (1, 0, 0, 1),
    }
    assert report.changed == 1


def test_an_account_whose_plan_the_rules_do_not_know_fires_nothing() -> None:
    rules = with_triggers(SEATS_FULL)
    report = impact(rules, rules, [account(3, plan="legacy"), account(3)])
    assert counts(report) == {"seats-full": (1, 1, 0, 0)}
    assert report.firing_now == 1


def test_a_for_trigger_fires_only_for_accounts_whose_pending_mark_is_old_enough() -> None:
    live = with_triggers(SEATS_FULL)
    proposed = with_triggers(SEATS_FULL.replace("priority: 20", "priority: 20\n    for: 1h"))
    accounts = [
        account(3, held={"seats-full": timedelta(hours=2)}),  # held for 2h: fires
        account(3, held={"seats-full": timedelta(minutes=30)}),  # pending for another 30 minutes
        account(3),  # holds, but no write has started its mark yet: pending
    ]

    report = impact(live, proposed, accounts)

    assert counts(report) == {"seats-full": (3, 1, 0, 2)}
    assert report.changed == 2


def test_each_rule_set_is_decided_on_its_own_state() -> None:
    # The store reads a metric per rule set (its window may differ between them).
    rules = with_triggers(SEATS_FULL)
    report = tally(
        rules, rules, states=[(account(1), account(3)), (account(3), account(0))], now=NOW
    )
    assert counts(report) == {"seats-full": (1, 1, 1, 1)}
    assert report.changed == 2


def test_an_outranked_trigger_whose_signal_fires_counts_as_firing() -> None:
    # seats-almost-full has a prompt and a signal. At 3 of 3 seats seats-full wins the
    # metric, so its prompt is not shown; its signal is recorded all the same.
    almost_with_signal = seats_almost_full("80%").replace(
        "    priority: 10", "    priority: 10\n    signal: pql"
    )
    live = with_triggers(SEATS_FULL + seats_almost_full("80%"))
    proposed = with_triggers(SEATS_FULL + almost_with_signal)

    report = impact(live, proposed, [account(3), account(2)])

    rows = {row.trigger: row for row in report.triggers}
    assert rows["seats-almost-full"].kind == "prompt"
    # Live: outranked at 3 seats, below 80% at 2. Proposed: its signal fires at 3 seats.
    assert counts(report) == {"seats-full": (1, 1, 0, 0), "seats-almost-full": (0, 1, 1, 0)}
    assert (report.changed, report.firing_now, report.firing_proposed) == (1, 1, 1)


def test_a_shadow_trigger_that_is_outranked_does_not_count_even_with_a_signal() -> None:
    # Shadow triggers never signal: outranked, a shadow trigger fires for no account.
    shadow = trigger("seats-shadow", threshold="80%", extra="mode: shadow\nsignal: pql")
    rules = with_triggers(SEATS_FULL + shadow)
    report = impact(rules, rules, [account(3)])
    assert counts(report) == {"seats-full": (1, 1, 0, 0), "seats-shadow": (0, 0, 0, 0)}


def test_shadow_and_signal_only_triggers_are_counted_and_labelled() -> None:
    shadow = trigger("seats-shadow", threshold="2", extra="mode: shadow")
    signal_only = "\n".join(
        ["  - id: seats-pql", "    metric: seats", "    threshold: 100%", "    signal: pql", ""]
    )
    rules = with_triggers(shadow + signal_only)
    report = impact(rules, rules, [account(2), account(3)])
    kinds = {row.trigger: row.kind for row in report.triggers}
    assert kinds == {"seats-shadow": "shadow", "seats-pql": "signal"}
    assert counts(report) == {"seats-shadow": (2, 2, 0, 0), "seats-pql": (1, 1, 0, 0)}


def report_of(rows: list[TriggerImpact], **totals: int) -> ImpactReport:
    report = ImpactReport("live1234", "new5678", NOW, triggers=rows)
    for name, value in totals.items():
        setattr(report, name, value)
    return report


def table_lines(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("trigger"))
    end = lines.index("", start)
    return lines[start:end]


def test_the_text_report_is_an_aligned_table_with_new_and_removed_triggers_marked() -> None:
    report = report_of(
        [
            TriggerImpact("seats-almost-full", "both", "prompt", 1200, 3450, 2250, 0),
            TriggerImpact("big-team", "new", "shadow", 0, 40, 40, 0),
            TriggerImpact("old-banner", "removed", "prompt", 7, 0, 0, 7),
        ],
        accounts=100_000,
        changed=2257,
        firing_now=1207,
        firing_proposed=3490,
    )

    text = render_text(report, live_dir="rules", proposed_dir="proposed")

    assert table_lines(text) == [
        "trigger                   now  proposed   start  stop",
        "seats-almost-full       1,200     3,450  +2,250     0",
        "big-team (new, shadow)      -        40     +40     0",
        "old-banner (removed)        7         -       0    -7",
    ]
    assert "proposed rules: proposed (version new5678)" in text
    assert text.splitlines()[-1] == (
        "total: 100,000 accounts; a trigger fires for 1,207 now and would for 3,490; "
        "2,257 accounts change"
    )


def test_skipped_accounts_are_counted_apart_and_the_first_few_named() -> None:
    rules = with_triggers(SEATS_FULL)
    counter = ImpactTally(rules, rules, at=NOW)
    counter.add_account(account(3), account(3))
    for n in range(7):
        counter.skip(Unreadable(f"acct{n}", f"a key of acct{n} holds a value Nudge did not write"))

    report = counter.report

    assert (report.accounts, report.skipped) == (1, 7)
    assert counts(report) == {"seats-full": (1, 1, 0, 0)}
    document = report.as_json()
    assert (document["accounts"], document["skipped"]) == (1, 7)
    assert document["skipped_accounts"] == ["acct0", "acct1", "acct2", "acct3", "acct4"]
    assert skipped_note(report) == (
        "7 accounts skipped (unreadable keys): acct0, acct1, acct2, acct3, acct4, …; "
        "acct0: a key of acct0 holds a value Nudge did not write"
    )
    header = render_text(report, live_dir="rules", proposed_dir="rules").splitlines()[2]
    assert header.startswith("accounts:       8 in the store (7 skipped: unreadable keys), at ")


def test_one_skipped_account_is_named_without_an_ellipsis() -> None:
    rules = with_triggers(SEATS_FULL)
    counter = ImpactTally(rules, rules, at=NOW)
    counter.skip(Unreadable("acct7", "why"))
    assert skipped_note(counter.report) == (
        "1 account skipped (unreadable keys): acct7; acct7: why"
    )
    assert counter.report.as_json()["skipped_accounts"] == ["acct7"]


def test_the_progress_line_is_redrawn_in_place_and_cleared() -> None:
    stream = io.StringIO()
    progress = TerminalProgress(stream)
    progress.listed(1500)
    progress.evaluated(500, 2000)  # within 0.1 s of the last draw: skipped
    progress.evaluated(2000, 2000)  # the last one is always drawn
    progress.clear()

    written = stream.getvalue()
    assert written.startswith("\rlisting accounts: 1,500 found")
    assert "500/2,000" not in written
    assert "\rreading accounts [########################] 2,000/2,000 (" in written
    last = written.rsplit("\r", 2)
    assert last[-1] == "" and last[-2].strip() == ""  # the line is blanked, cursor at its start
