"""What flush() answers, kept apart from the sending: which losses each call answers for."""

from __future__ import annotations

from collections.abc import Sequence

from nudge_sdk.models import UsageEvent


class _Window:
    """The events one flush() call answers for: queue positions [start, end)."""

    __slots__ = ("end", "lost", "start")

    def __init__(self, start: int, end: int, *, lost: bool) -> None:
        self.start, self.end, self.lost = start, end, lost


class Ledger:
    """What flush() answers: whether everything tracked before it was delivered.

    Queued events are numbered in queue order. Each flush() call answers for a window:
    the events queued since the previous call, up to the call, and the ones track()
    dropped in that time (they have no number; a drop always belongs to the next call).
    The call answers False if any of them was not delivered. A call that times out
    hands its window on to the next call, so each loss makes one flush() answer False:
    the first one that saw its event settle. Not thread-safe: callers hold their lock.
    """

    def __init__(self) -> None:
        self._open: list[_Window] = []  # the calls waiting now, oldest first
        self._next = 0  # where the next call's window starts
        self._carry = False  # a loss for the next call's window

    def dropped(self) -> None:
        """track() dropped an event (a full queue, a closed client)."""
        self._carry = True

    def lost(self, position: int) -> None:
        """The queued event at `position` will never be delivered (refused, given up)."""
        for window in self._open:
            if window.start <= position < window.end:
                window.lost = True
                return
        self._carry = True  # queued after every waiting call: the next call's

    def settled(
        self, first: int, batch: Sequence[UsageEvent], *, taken: Sequence[UsageEvent]
    ) -> None:
        """The batch queued from position `first` on is done: what is not in `taken` is lost."""
        delivered = {id(event) for event in taken}
        for offset, event in enumerate(batch):
            if id(event) not in delivered:
                self.lost(first + offset)

    def open(self, end: int) -> _Window:
        """A flush() call, made when `end` events had been queued."""
        window = _Window(self._next, end, lost=self._carry)
        self._carry = False
        self._next = max(self._next, end)
        self._open.append(window)
        return window

    def close(self, window: _Window, *, settled: bool) -> bool:
        """What the call answers: True if every event of its window was delivered.
        `settled`: they all were delivered or lost; else (a timeout) the window is
        handed on to the call after it."""
        at = self._open.index(window)
        del self._open[at]
        if settled:
            return not window.lost
        if at < len(self._open):
            later = self._open[at]
            later.start, later.lost = window.start, later.lost or window.lost
        else:
            self._next, self._carry = window.start, self._carry or window.lost
        return False
