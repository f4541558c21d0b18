"""A small, bounded HTTP load for the attack tests: a few threads, each with its own
keep-alive connection, sending requests back to back for a fixed time."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx


@dataclass
class Answer:
    status: int
    body: object
    seconds: float
    error: str | None = None


@dataclass
class Load:
    answers: list[Answer] = field(default_factory=list)

    @property
    def statuses(self) -> set[int]:
        return {answer.status for answer in self.answers}

    def p99(self) -> float:
        ordered = sorted(answer.seconds for answer in self.answers)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def run_load(
    request: Callable[[httpx.Client], httpx.Response],
    *,
    base_url: str,
    headers: dict[str, str],
    threads: int = 4,
    seconds: float = 2.0,
    during: Callable[[], None] | None = None,
) -> Load:
    """Send `request` from `threads` clients for `seconds`; `during` runs meanwhile."""
    load = Load()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as http:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                try:
                    response = request(http)
                    answer = Answer(
                        response.status_code, _json(response), time.perf_counter() - started
                    )
                except httpx.HTTPError as exc:
                    answer = Answer(0, None, time.perf_counter() - started, repr(exc))
                with lock:
                    load.answers.append(answer)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    if during is not None:
        during()
    for thread in workers:
        thread.join()
    return load


def _json(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return response.text
