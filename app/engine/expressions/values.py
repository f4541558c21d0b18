"""What conditions compute with: values and their kinds, the environment, the errors.

Names with a leading underscore are shared by the modules of this package only; the
rest of the engine imports from `app.engine.expressions`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 1000
MAX_DEPTH = 32  # parentheses, `not` and unary `-` nested in one another; ~300 parser frames

Value = float | str | bool | None

NUMBER, STRING, BOOLEAN, NULL = "number", "string", "boolean", "null"
_Kinds = frozenset[str]
_ANY: _Kinds = frozenset({NUMBER, STRING, BOOLEAN, NULL})
_NUM: _Kinds = frozenset({NUMBER})
_STR: _Kinds = frozenset({STRING})
_BOOL: _Kinds = frozenset({BOOLEAN})
_LIMIT: _Kinds = frozenset({NUMBER, NULL})
_ORDERABLE: _Kinds = frozenset({NUMBER, STRING})

_KEYWORDS = frozenset(
    {"and", "or", "not", "in", "true", "false", "null", "plan", "limit", "account"}
)
_LITERAL_NAMES: dict[str, Value] = {"true": True, "false": False, "null": None}
_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=")
_ORDERS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class ExpressionError(ValueError):
    """A mistake in a condition's text, with the 0-based offset where it is."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset

    def position(self, text: str) -> tuple[int, int]:
        """The 1-based line and column of the offset within `text`."""
        offset = min(self.offset, len(text))
        line = text.count("\n", 0, offset) + 1
        return line, offset - (text.rfind("\n", 0, offset) + 1) + 1

    def caret(self, text: str) -> str:
        """The line of `text` holding the mistake, and a ^ under it."""
        offset = min(self.offset, len(text))
        start = text.rfind("\n", 0, offset) + 1
        end = text.find("\n", offset)
        line = text[start : len(text) if end == -1 else end]
        # Keep tabs so that the caret lines up however the reader's terminal shows them.
        pad = "".join("\t" if char == "\t" else " " for char in text[start:offset])
        return f"{line}\n{pad}^"


@dataclass(frozen=True, slots=True)
class Environment:
    """What one account looks like to a condition."""

    usage: Mapping[str, float]  # metric -> usage; a missing metric is 0
    limits: Mapping[str, float | None]  # metric -> plan limit; None or missing: unlimited
    plan: str
    attributes: Mapping[str, Any]  # the account's attributes, JSON values


class _Undefined(Exception):
    """Evaluation reached a value it cannot use; the condition is false for this account."""


def _kind(value: Value) -> str:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, float):
        return NUMBER
    return STRING if isinstance(value, str) else NULL


def _equal(a: Value, b: Value) -> bool:
    return _kind(a) == _kind(b) and a == b


def _describe_value(value: Value) -> str:
    return "null" if value is None else f"{_kind(value)} {_show(value)}"


def _show(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return '"' + str(value) + '"'


def _describe_kinds(kinds: _Kinds) -> str:
    if kinds == _LIMIT:
        return "a number (or null where unlimited)"
    if kinds == {NULL}:
        return "null"
    return " or ".join(f"a {kind}" for kind in sorted(kinds))
