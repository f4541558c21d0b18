"""Problems found in rule files, each located by file, line and column.

An error stops a rule set from loading; a warning (see rule_files/lint.py) points at a
rule that loads but probably does not do what its author meant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    message: str
    severity: Severity = "error"
    # Lines that show the mistake: for a `when:` condition, its line and a ^ under the spot.
    excerpt: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        if self.severity == "warning":
            return f"{self.file}:{self.line}:{self.column}: warning: {self.message}"
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def report(self) -> str:
        """The problem line, and its excerpt (if any) indented under it, for a terminal."""
        if self.excerpt is None:
            return str(self)
        return "\n".join([str(self), *(f"    {line}" for line in self.excerpt.splitlines())])

    def as_detail(self) -> dict[str, str | int]:
        """The shape of one item of an API error's `details`."""
        detail: dict[str, str | int] = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }
        if self.excerpt is not None:
            detail["excerpt"] = self.excerpt
        return detail

    def as_json(self) -> dict[str, str | int]:
        """One problem as `nudge rules check --format json` prints it."""
        found: dict[str, str | int] = {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
        }
        if self.excerpt is not None:
            found["excerpt"] = self.excerpt
        return found


def report_problems(problems: Iterable[Problem]) -> str:
    """Problems as a terminal shows them, one `report()` after the other: the one format
    of `nudge rules check`, of every command that needs the rules, and of a refused start."""
    return "\n".join(problem.report() for problem in problems)
