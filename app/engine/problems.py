"""Problems found in rule files, each located by file, line and column.

An error stops a rule set from loading; a warning (see app/engine/lint.py) points
at a rule that loads but probably does not do what its author meant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True, order=True)
class Problem:
    file: str
    line: int
    column: int
    message: str
    severity: Severity = "error"

    def __str__(self) -> str:
        if self.severity == "warning":
            return f"{self.file}:{self.line}:{self.column}: warning: {self.message}"
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def as_detail(self) -> dict[str, str | int]:
        """The shape of one item of an API error's `details`."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }

    def as_json(self) -> dict[str, str | int]:
        """One problem as `nudge rules check --format json` prints it."""
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "message": self.message,
        }
