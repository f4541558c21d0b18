"""`nudge serve` as a real process, the way the README's first command runs it, for tests
of what it prints (tests/support/service.py's Service is the one for tests of an outage).

A test never reads the process's output once and hopes: output is read by a thread as it
arrives, and `ServedNudge.wait_for` waits (with a deadline) until a line is printed, so a
line logged a moment after an HTTP answer is still found on a slow or busy machine.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import httpx

NUDGE = [sys.executable, "-m", "app.cli"]

# Uvicorn logs this once its socket listens. Not "Application startup complete": uvicorn
# logs that after the app's startup but before it binds the port, so a request sent on
# seeing it can be refused.
LISTENING = r"Uvicorn running on http://\S+"


class ProcessOutput:
    """What one process prints, read by a thread as it arrives."""

    def __init__(self, stream: IO[str]) -> None:
        self.lines: list[str] = []
        self.ended = False  # every writer closed it: the process and any child it had
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.reader.start()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()
        with self.changed:
            self.ended = True
            self.changed.notify_all()

    def text(self) -> str:
        with self.changed:
            return "".join(self.lines)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        found: list[re.Match[str]] = []

        def matched_or_ended() -> bool:
            match = re.search(pattern, "".join(self.lines))
            if match:
                found.append(match)
            return bool(match) or self.ended

        with self.changed:
            self.changed.wait_for(matched_or_ended, timeout=timeout)
            text, ended = "".join(self.lines), self.ended
        if found:
            return found[0]
        why = "the process exited first" if ended else f"not within {timeout:g} s"
        raise AssertionError(f"{pattern!r} was not printed ({why}); output:\n{text}")


class ServedNudge:
    def __init__(self, workdir: Path, port: int, env: dict[str, str]) -> None:
        self.workdir = workdir
        self.port = port
        self.env = env
        self.process: subprocess.Popen[str] | None = None
        self._output: ProcessOutput | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> str:
        """Everything the last process started printed (stdout and stderr) so far."""
        assert self._output is not None, "start() it first"
        return self._output.text()

    def start(self, *, command: list[str] | None = None, timeout: float = 30) -> None:
        """Start the service and return once its port accepts connections."""
        self.process = subprocess.Popen(
            command or [*NUDGE, "serve", "--port", str(self.port)],
            cwd=self.workdir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.process.stdout is not None
        self._output = ProcessOutput(self.process.stdout)
        self.wait_for(LISTENING, timeout=timeout)

    def wait_for(self, pattern: str, *, timeout: float = 15) -> str:
        """Wait until the output matches `pattern`; return its first group (or the match).

        Fails, showing the output, if `timeout` seconds pass or the output ends first.
        """
        assert self._output is not None, "start() it first"
        match = self._output.wait_for(pattern, timeout)
        return match.group(1) if match.re.groups else match.group(0)

    def stop(self) -> int:
        """Stop it as Ctrl-C does; return its exit code once all its output is read."""
        assert self.process is not None and self._output is not None
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=20)
        self._output.reader.join(timeout=10)
        assert not self._output.reader.is_alive(), (
            "nudge serve exited but its output is still open: a child process outlived it"
        )
        return code

    def client(self, key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key}"}, timeout=5
        )
