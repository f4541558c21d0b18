"""The e2e tests' reader of a process's output waits for a line; it never reads once."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from tests.support.served_nudge import ProcessOutput

# Prints "early" at once, then "late: <n>" for each line it is sent on stdin.
ECHO = (
    "import sys\n"
    "print('early', flush=True)\n"
    "for line in sys.stdin:\n"
    "    print('late:', line.strip(), flush=True)\n"
)


@pytest.fixture
def child() -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", ECHO],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    process.kill()
    process.wait()


def _send(process: subprocess.Popen[str], line: str) -> None:
    assert process.stdin is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()


def test_a_line_printed_after_the_wait_began_is_found(child: subprocess.Popen[str]) -> None:
    assert child.stdout is not None
    output = ProcessOutput(child.stdout)
    assert output.wait_for("early", timeout=10).group(0) == "early"
    assert "late" not in output.text()  # reading once now would miss what follows

    threading.Timer(0.2, _send, args=(child, "42")).start()
    assert output.wait_for(r"late: (\d+)", timeout=10).group(1) == "42"


def test_a_line_never_printed_fails_with_the_pattern_and_the_output(
    child: subprocess.Popen[str],
) -> None:
    assert child.stdout is not None
    output = ProcessOutput(child.stdout)
    with pytest.raises(AssertionError, match=r"'late: 7' was not printed \(not within 0.3 s\)"):
        output.wait_for("late: 7", timeout=0.3)
    assert "early" in output.text()


def test_a_process_that_exits_ends_the_wait_at_once(child: subprocess.Popen[str]) -> None:
    assert child.stdout is not None and child.stdin is not None
    output = ProcessOutput(child.stdout)
    child.stdin.close()  # the child's loop ends and it exits
    with pytest.raises(AssertionError, match="the process exited first") as failure:
        output.wait_for("late", timeout=60)
    assert "early" in str(failure.value)
