"""Which flush() answers False for a lost event, when flushes overlap, time out or race the
events they wait for: the rules of the clients' shared `Ledger`, with no I/O and no threads.
(The clients' own tests show the common cases against the real service.)"""

from __future__ import annotations

from nudge_sdk._ledger import Ledger


def test_a_flush_answers_true_when_nothing_of_its_window_was_lost() -> None:
    ledger = Ledger()
    window = ledger.open(3)  # three events queued before the call

    assert ledger.close(window, settled=True)


def test_a_loss_makes_the_flush_of_its_window_answer_false_and_only_that_one() -> None:
    ledger = Ledger()
    first = ledger.open(3)
    ledger.lost(1)
    assert not ledger.close(first, settled=True)

    second = ledger.open(5)
    assert ledger.close(second, settled=True)


def test_an_event_dropped_before_a_call_counts_for_it_one_dropped_during_it_for_the_next() -> None:
    ledger = Ledger()
    ledger.dropped()
    first = ledger.open(0)
    ledger.dropped()  # track() while the first flush waits

    assert not ledger.close(first, settled=True)
    assert not ledger.close(ledger.open(0), settled=True)
    assert ledger.close(ledger.open(0), settled=True)


def test_a_lost_event_queued_after_the_call_counts_for_the_next_flush() -> None:
    ledger = Ledger()
    first = ledger.open(2)
    ledger.lost(2)  # queued after the call, in the same batch as the first two

    assert ledger.close(first, settled=True)
    assert not ledger.close(ledger.open(3), settled=True)


def test_a_timed_out_flush_hands_its_window_to_the_next_call() -> None:
    ledger = Ledger()
    first = ledger.open(2)
    assert not ledger.close(first, settled=False)
    ledger.lost(0)  # given up after the first flush stopped waiting

    second = ledger.open(2)
    assert not ledger.close(second, settled=True)
    assert ledger.close(ledger.open(2), settled=True)


def test_a_timed_out_flush_hands_its_window_to_a_later_flush_still_waiting() -> None:
    ledger = Ledger()
    short = ledger.open(2)
    long = ledger.open(4)
    assert not ledger.close(short, settled=False)
    ledger.lost(1)

    assert not ledger.close(long, settled=True)


def test_a_loss_seen_by_a_flush_that_timed_out_is_said_again_by_the_next() -> None:
    ledger = Ledger()
    first = ledger.open(2)
    ledger.lost(0)
    assert not ledger.close(first, settled=False)  # False for its timeout

    assert not ledger.close(ledger.open(2), settled=True)  # False for the loss


def test_overlapping_flushes_each_answer_for_their_own_window() -> None:
    ledger = Ledger()
    early = ledger.open(2)
    late = ledger.open(4)
    ledger.lost(3)

    assert not ledger.close(late, settled=True)
    assert ledger.close(early, settled=True)
