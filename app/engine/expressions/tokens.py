"""Reading a condition's text into tokens, one at a time."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from app.engine.expressions.values import _COMPARISONS, ExpressionError, Value

# --- tokenizer ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "string", "name", "op" or "end"
    text: str
    start: int
    end: int
    value: Value = None

    def is_op(self, *texts: str) -> bool:
        return self.kind == "op" and self.text in texts

    def is_word(self, *texts: str) -> bool:
        return self.kind == "name" and self.text in texts

    def __str__(self) -> str:
        return "the end of the condition" if self.kind == "end" else f'"{self.text}"'


_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_NUMBER_TAIL = re.compile(r"[A-Za-z0-9_.]*")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_OPERATORS = frozenset({*_COMPARISONS, "+", "-", "*", "/", "(", ")", "[", "]", ","})
_NOT_OPERATORS = {
    "===": 'write "=="',
    "!==": 'write "!="',
    "&&": 'write "and"',
    "||": 'write "or"',
    "<>": 'write "!="',
    "=<": 'write "<="',
    "=>": 'write ">="',
    "**": "there is no power operator",
    "=": 'write "==" to compare',
    "!": 'write "not"',
    "&": 'write "and"',
    "|": 'write "or"',
    "%": "there is no remainder operator",
    "^": "there is no power operator",
}
_ESCAPABLE = frozenset({'"', "'", "\\"})


def _tokenize(text: str) -> Iterator[_Token]:
    """Tokens one at a time, so that the first mistake in reading order is the one reported."""
    index = 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            yield _Token("end", "", len(text.rstrip()), len(text.rstrip()))
            return
        char = text[index]
        if char.isascii() and char.isdigit():
            token = _number_token(text, index)
        elif char.isascii() and (char.isalpha() or char == "_"):
            name = _NAME.match(text, index)
            assert name is not None
            token = _Token("name", name.group(), index, name.end())
        elif char in "\"'":
            token = _string_token(text, index)
        else:
            token = _operator_token(text, index)
        yield token
        index = token.end


def _number_token(text: str, start: int) -> _Token:
    match = _NUMBER.match(text, start)
    assert match is not None
    tail = _NUMBER_TAIL.match(text, match.end())
    if tail and tail.group():
        word = text[start : tail.end()]
        raise ExpressionError(
            f'"{word}" is not a number; write 3, 2.5 or 1e3, and a space before a name',
            start,
        )
    value = float(match.group())  # a decimal string too large for a float gives inf
    if not math.isfinite(value):
        raise ExpressionError(f'the number "{match.group()}" is too large', start)
    return _Token("number", match.group(), start, match.end(), value)


def _string_token(text: str, start: int) -> _Token:
    quote, index = text[start], start + 1
    chars: list[str] = []
    while index < len(text):
        char = text[index]
        if char == quote:
            return _Token("string", text[start : index + 1], start, index + 1, "".join(chars))
        if char == "\\" and index + 1 < len(text):
            escaped = text[index + 1]
            if escaped not in _ESCAPABLE:
                raise ExpressionError(
                    f'"\\{escaped}" is not an escape; in a string a backslash escapes only '
                    'a quote or a backslash (write "\\\\" for a backslash)',
                    index,
                )
            chars.append(escaped)
            index += 2
            continue
        chars.append(char)
        index += 1
    raise ExpressionError(f"unterminated string; close it with {quote}", start)


def _operator_token(text: str, start: int) -> _Token:
    for size in (3, 2, 1):
        symbol = text[start : start + size]
        if len(symbol) < size:
            continue
        if symbol in _NOT_OPERATORS:
            raise ExpressionError(f'"{symbol}" is not an operator; {_NOT_OPERATORS[symbol]}', start)
        if symbol in _OPERATORS:
            return _Token("op", symbol, start, start + size)
    char = text[start]
    if char == ".":
        raise ExpressionError(
            '"." only joins limit or account to a name, as in limit.seats or account.industry',
            start,
        )
    shown = f'"{char}"' if char.isprintable() else f"U+{ord(char):04X}"
    raise ExpressionError(f"unexpected character {shown}", start)
