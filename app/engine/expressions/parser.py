"""Parsing and checking a condition once, at load time: text -> Condition or ExpressionError."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection
from dataclasses import dataclass

from app.engine.expressions.tokens import _NUMBER, _Token, _tokenize
from app.engine.expressions.tree import (
    Condition,
    _AllOf,
    _AnyOf,
    _Arithmetic,
    _Attribute,
    _Compare,
    _Limit,
    _Literal,
    _Membership,
    _Negate,
    _Node,
    _Not,
    _Plan,
    _Usage,
)
from app.engine.expressions.values import (
    _ANY,
    _BOOL,
    _COMPARISONS,
    _KEYWORDS,
    _LIMIT,
    _LITERAL_NAMES,
    _NUM,
    _ORDERABLE,
    _STR,
    BOOLEAN,
    MAX_DEPTH,
    MAX_LENGTH,
    NUMBER,
    ExpressionError,
    Value,
    _describe_kinds,
    _kind,
    _Kinds,
)


def compile_condition(text: str, *, metrics: Collection[str]) -> Condition:
    """Parse and check `text` once; raise ExpressionError at the first mistake."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the condition is {len(text)} characters long; the limit is {MAX_LENGTH}: "
            "split it across triggers",
            MAX_LENGTH,
        )
    if not text.strip():
        raise ExpressionError('the condition is empty; write one such as "seats >= 3"', 0)
    parser = _Parser(text, frozenset(metrics))
    tree = parser.parse()
    return Condition(source=text, metrics=frozenset(parser.read), tree=tree)


# --- parser ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Parsed:
    node: _Node
    kinds: _Kinds  # the types the value may have at run time
    start: int
    end: int


class _Parser:
    def __init__(self, text: str, metrics: frozenset[str]) -> None:
        self.text = text
        self.metrics = metrics
        self.read: set[str] = set()
        self._tokens = _tokenize(text)
        self._ahead: list[_Token] = []
        self._previous: _Token | None = None
        self._depth = 0

    # Reading tokens.

    def peek(self, distance: int = 0) -> _Token:
        while len(self._ahead) <= distance:
            if self._ahead and self._ahead[-1].kind == "end":
                return self._ahead[-1]
            self._ahead.append(next(self._tokens))
        return self._ahead[distance]

    def advance(self) -> _Token:
        token = self.peek()
        if token.kind != "end":
            self._ahead.pop(0)
        self._previous = token
        return token

    def source(self, start: int, end: int) -> str:
        return self.text[start:end]

    def enter(self, token: _Token) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise ExpressionError(
                f"the condition nests more than {MAX_DEPTH} levels deep; simplify it",
                token.start,
            )

    def leave(self) -> None:
        self._depth -= 1

    # Grammar rules, lowest precedence first.

    def parse(self) -> _Node:
        parsed = self.or_expr()
        token = self.peek()
        if token.kind != "end":
            raise self.unexpected(token)
        if BOOLEAN not in parsed.kinds:
            snippet = self.source(parsed.start, parsed.end)
            raise ExpressionError(
                f"the condition must be true or false, but {snippet} is "
                f"{_describe_kinds(parsed.kinds)}{_comparison_hint(snippet, parsed.kinds)}",
                parsed.start,
            )
        return parsed.node

    # Each level reads its own operands in a loop (no helper frame in between), which
    # keeps the parser's recursion at a few frames per level of nesting.

    def or_expr(self) -> _Parsed:
        operands = [self.and_expr()]
        while self.peek().is_word("or"):
            self.advance()
            operands.append(self.and_expr())
        return self.join("or", operands, node=_AnyOf)

    def and_expr(self) -> _Parsed:
        operands = [self.not_expr()]
        while self.peek().is_word("and"):
            self.advance()
            operands.append(self.not_expr())
        return self.join("and", operands, node=_AllOf)

    def join(
        self, word: str, operands: list[_Parsed], *, node: Callable[[str, tuple[_Node, ...]], _Node]
    ) -> _Parsed:
        if len(operands) == 1:
            return operands[0]
        for parsed in operands:
            self.require_boolean(parsed, f'"{word}" joins conditions')
        start, end = operands[0].start, operands[-1].end
        tree = node(self.source(start, end), tuple(parsed.node for parsed in operands))
        return _Parsed(tree, _BOOL, start, end)

    def not_expr(self) -> _Parsed:
        if not self.peek().is_word("not"):
            return self.comparison()
        token = self.advance()
        self.enter(token)
        operand = self.not_expr()
        self.leave()
        self.require_boolean(operand, '"not" takes a condition')
        text = self.source(token.start, operand.end)
        return _Parsed(_Not(text, operand.node), _BOOL, token.start, operand.end)

    def comparison(self) -> _Parsed:
        left = self.sum()
        token = self.peek()
        if token.is_op(*_COMPARISONS):
            self.advance()
            right = self.sum()
            parsed = self.compare(token, left=left, right=right)
            self.refuse_chain(parsed, right)
            return parsed
        if token.is_word("in") or (token.is_word("not") and self.peek(1).is_word("in")):
            negated = token.is_word("not")
            self.advance()
            if negated:
                self.advance()
            parsed = self.membership(left, token, negated=negated)
            self.refuse_chain(parsed, None)
            return parsed
        return left

    def refuse_chain(self, first: _Parsed, middle: _Parsed | None) -> None:
        token = self.peek()
        if token.is_op(*_COMPARISONS) and middle is not None:
            self.advance()
            last = self.sum()
            suggestion = (
                f"{self.source(first.start, first.end)} and {self.source(middle.start, last.end)}"
            )
            raise ExpressionError(
                f'comparisons do not chain; join them with "and", as in "{suggestion}"',
                token.start,
            )
        if token.is_op(*_COMPARISONS) or token.is_word("in"):
            raise ExpressionError(
                'comparisons do not chain; join them with "and" (or group one in parentheses)',
                token.start,
            )

    def compare(self, token: _Token, *, left: _Parsed, right: _Parsed) -> _Parsed:
        op, text = token.text, self.source(left.start, right.end)
        if op in ("==", "!="):
            if not left.kinds & right.kinds:
                hint = _quoted_number_hint(left, right)
                raise ExpressionError(
                    f'"{op}" compares {_describe_kinds(left.kinds)} with '
                    f"{_describe_kinds(right.kinds)}, so {text} is always "
                    f"{'false' if op == '==' else 'true'}{hint}",
                    token.start,
                )
        else:
            for side in (left, right):
                if not side.kinds & _ORDERABLE:
                    raise ExpressionError(
                        f'"{op}" compares numbers or strings, but '
                        f"{self.source(side.start, side.end)} is {_describe_kinds(side.kinds)}",
                        side.start,
                    )
            if not left.kinds & right.kinds & _ORDERABLE:
                raise ExpressionError(
                    f'"{op}" cannot compare {_describe_kinds(left.kinds)} with '
                    f"{_describe_kinds(right.kinds)}{_quoted_number_hint(left, right)}",
                    token.start,
                )
        node = _Compare(text, op, left.node, right.node)
        return _Parsed(node, _BOOL, left.start, right.end)

    def membership(self, operand: _Parsed, token: _Token, *, negated: bool) -> _Parsed:
        opening = self.advance()
        if not opening.is_op("["):
            raise ExpressionError(
                f'"in" takes a list in brackets, as in plan in ["free", "team"]; found {opening}',
                opening.start,
            )
        items: list[Value] = []
        while not self.peek().is_op("]"):
            item_start = self.peek().start
            item = self.list_item(opening)
            if _kind(item) not in operand.kinds:
                snippet = self.source(operand.start, operand.end)
                raise ExpressionError(
                    f"{snippet} is {_describe_kinds(operand.kinds)}, so "
                    f"{self.source(item_start, self._end())} can never match it",
                    item_start,
                )
            items.append(item)
            if self.peek().is_op(","):
                self.advance()
            elif not self.peek().is_op("]"):
                self.close_error(opening, closer="]", what="list")
        closing = self.advance()
        if not items:
            raise ExpressionError('"in []" never matches; list at least one value', opening.start)
        text = self.source(operand.start, closing.end)
        node = _Membership(text, operand.node, tuple(items), negated)
        return _Parsed(node, _BOOL, operand.start, closing.end)

    def list_item(self, opening: _Token) -> Value:
        token = self.advance()
        sign = 1.0
        if token.is_op("-") and self.peek().kind == "number":
            sign, token = -1.0, self.advance()
        if token.kind == "number":
            assert isinstance(token.value, float)
            return sign * token.value
        if token.kind == "string":
            return token.value
        if token.is_word(*_LITERAL_NAMES):
            return _LITERAL_NAMES[token.text]
        if token.kind == "end":
            self.close_error(opening, closer="]", what="list")
        raise ExpressionError(
            f'a list after "in" holds only numbers, strings, true, false and null; found {token}',
            token.start,
        )

    def _end(self) -> int:
        assert self._previous is not None
        return self._previous.end

    def sum(self) -> _Parsed:
        first, rest = self.product(), []
        while self.peek().is_op("+", "-"):
            rest.append((self.advance(), self.product()))
        return self.arithmetic(first, rest)

    def product(self) -> _Parsed:
        first, rest = self.unary(), []
        while self.peek().is_op("*", "/"):
            rest.append((self.advance(), self.unary()))
        return self.arithmetic(first, rest)

    def arithmetic(self, first: _Parsed, rest: list[tuple[_Token, _Parsed]]) -> _Parsed:
        if not rest:
            return first
        for token, parsed in [(rest[0][0], first), *rest]:
            self.require_number(parsed, token.text)
        for token, parsed in rest:
            if token.text == "/" and isinstance(parsed.node, _Literal) and parsed.node.value == 0:
                raise ExpressionError("division by zero", token.start)
        text = self.source(first.start, rest[-1][1].end)
        node = _Arithmetic(text, first.node, tuple((t.text, p.node) for t, p in rest))
        return _Parsed(node, _NUM, first.start, rest[-1][1].end)

    def unary(self) -> _Parsed:
        if not self.peek().is_op("-"):
            return self.primary()
        token = self.advance()
        self.enter(token)
        operand = self.unary()
        self.leave()
        self.require_number(operand, "-")
        text = self.source(token.start, operand.end)
        if isinstance(operand.node, _Literal) and isinstance(operand.node.value, float):
            return _Parsed(_Literal(text, -operand.node.value), _NUM, token.start, operand.end)
        return _Parsed(_Negate(text, operand.node), _NUM, token.start, operand.end)

    def primary(self) -> _Parsed:
        token = self.peek()
        if token.kind in ("number", "string"):
            self.advance()
            kinds = _NUM if token.kind == "number" else _STR
            parsed = _Parsed(_Literal(token.text, token.value), kinds, token.start, token.end)
        elif token.is_op("("):
            parsed = self.parenthesis()
        elif token.kind == "name" and token.text not in ("and", "or", "not", "in"):
            self.advance()
            parsed = self.name(token)
        else:
            raise self.expected_expression(token)
        following = self.peek()
        if following.is_op("("):
            raise ExpressionError(
                f'"(" cannot follow {self.source(parsed.start, parsed.end)}: '
                "conditions have no function calls",
                following.start,
            )
        if following.is_op("["):
            raise ExpressionError(
                'conditions have no indexing; a list in brackets may only follow "in"',
                following.start,
            )
        return parsed

    def parenthesis(self) -> _Parsed:
        opening = self.advance()
        self.enter(opening)
        inner = self.or_expr()
        if not self.peek().is_op(")"):
            self.close_error(opening, closer=")", what="parenthesis")
        closing = self.advance()
        self.leave()
        return _Parsed(inner.node, inner.kinds, opening.start, closing.end)

    def close_error(self, opening: _Token, *, closer: str, what: str) -> None:
        token = self.peek()
        if token.kind == "end":
            raise ExpressionError(f'unclosed {what}; add "{closer}"', opening.start)
        expected = '"," or "]" in' if closer == "]" else 'an operator or ")" to close'
        raise ExpressionError(
            f"expected {expected} the {what} opened at column {opening.start + 1}; found {token}",
            token.start,
        )

    def name(self, token: _Token) -> _Parsed:
        name, start, end = token.text, token.start, token.end
        if "." in name:
            return self.dotted_name(token)
        if name in _LITERAL_NAMES:
            value = _LITERAL_NAMES[name]
            return _Parsed(_Literal(name, value), frozenset({_kind(value)}), start, end)
        if name == "plan":
            return _Parsed(_Plan(name), _STR, start, end)
        if name == "limit":
            raise ExpressionError(
                '"limit" needs a metric: write limit.<metric>, as in limit.seats', start
            )
        if name == "account":
            raise ExpressionError(
                '"account" needs an attribute: write account.<attribute>, as in account.industry',
                start,
            )
        if name in self.metrics:
            self.read.add(name)
            return _Parsed(_Usage(name), _NUM, start, end)
        lowered = name.lower()
        if lowered in _LITERAL_NAMES or lowered in _KEYWORDS:
            raise ExpressionError(f'write "{lowered}" in lowercase; keywords are lowercase', start)
        if name == "None":
            raise ExpressionError('"None" is not a value; write null', start)
        raise ExpressionError(self.unknown_name(name), start)

    def dotted_name(self, token: _Token) -> _Parsed:
        prefix, _, rest = token.text.partition(".")
        rest_start = token.start + len(prefix) + 1
        if prefix in ("limit", "account") and "." in rest:
            raise ExpressionError(
                f"{prefix}.{rest.split('.')[0]} has no attributes; "
                f"{prefix}.<name> takes exactly one name",
                rest_start + rest.index("."),
            )
        if prefix == "limit":
            if rest not in self.metrics:
                raise ExpressionError(self.unknown_metric(rest), rest_start)
            self.read.add(rest)
            return _Parsed(_Limit(token.text, rest), _LIMIT, token.start, token.end)
        if prefix == "account":
            return _Parsed(_Attribute(token.text, rest), _ANY, token.start, token.end)
        dot = token.start + len(prefix)
        close = difflib.get_close_matches(prefix, ["limit", "account"], n=1)
        if close:
            raise ExpressionError(
                f'unknown name "{token.text}"; did you mean "{close[0]}.{rest}"?', token.start
            )
        hint = f'; for its limit write "limit.{prefix}"' if prefix in self.metrics else ""
        raise ExpressionError(
            f'"." only joins limit or account to a name, as in limit.seats or '
            f"account.industry{hint}",
            dot,
        )

    def unknown_name(self, name: str) -> str:
        candidates = [*sorted(self.metrics), "plan", "true", "false", "null"]
        close = difflib.get_close_matches(name, candidates, n=1)
        guess = f'; did you mean "{close[0]}"?' if close else ""
        return f'unknown name "{name}"{guess} ({self.known_names()})'

    def unknown_metric(self, name: str) -> str:
        close = difflib.get_close_matches(name, sorted(self.metrics), n=1)
        guess = f'; did you mean "limit.{close[0]}"?' if close else ""
        return f'unknown metric "{name}" in "limit.{name}"{guess} ({self.known_names()})'

    def known_names(self) -> str:
        listed = sorted(self.metrics)
        shown = ", ".join(listed[:12]) + (
            f" and {len(listed) - 12} more" if len(listed) > 12 else ""
        )
        metrics = f"metrics: {shown}" if listed else "no metrics are defined"
        return f"{metrics}; also plan, limit.<metric>, account.<attribute>"

    # Errors and checks.

    def expected_expression(self, token: _Token) -> ExpressionError:
        after = f" after {self._previous}" if self._previous else ""
        found = "" if token.kind == "end" else f", found {token}"
        return ExpressionError(f"expected an expression{after}{found}", token.start)

    def unexpected(self, token: _Token) -> ExpressionError:
        if token.is_op(")"):
            return ExpressionError('unmatched ")"; there is no "(" for it', token.start)
        lowered = token.text.lower()
        if token.kind == "name" and lowered != token.text and lowered in ("and", "or", "not", "in"):
            return ExpressionError(
                f'write "{lowered}" in lowercase; keywords are lowercase', token.start
            )
        if token.is_word("is"):
            return ExpressionError(
                '"is" is not an operator; write "==" (or "!=" for "is not")', token.start
            )
        if token.is_word("not"):
            return ExpressionError(
                '"not" goes before a condition, as in "not (seats > 3)", or before "in"',
                token.start,
            )
        close = difflib.get_close_matches(token.text, ["and", "or"], n=1)
        if token.kind == "name" and close:
            return ExpressionError(f'unexpected {token}; did you mean "{close[0]}"?', token.start)
        return ExpressionError(
            f'unexpected {token}; expected an operator, "and", "or" or the end of the condition',
            token.start,
        )

    def require_boolean(self, parsed: _Parsed, what: str) -> None:
        if BOOLEAN not in parsed.kinds:
            snippet = self.source(parsed.start, parsed.end)
            raise ExpressionError(
                f"{what}, but {snippet} is {_describe_kinds(parsed.kinds)}"
                f"{_comparison_hint(snippet, parsed.kinds)}",
                parsed.start,
            )

    def require_number(self, parsed: _Parsed, op: str) -> None:
        if NUMBER not in parsed.kinds:
            snippet = self.source(parsed.start, parsed.end)
            raise ExpressionError(
                f'"{op}" works on numbers, but {snippet} is {_describe_kinds(parsed.kinds)}',
                parsed.start,
            )


def _comparison_hint(snippet: str, kinds: _Kinds) -> str:
    if NUMBER in kinds:
        return f'; compare it, as in "{snippet} > 0"'
    if kinds == _STR:
        return f"; compare it, as in '{snippet} == \"...\"'"
    return ""


def _quoted_number_hint(left: _Parsed, right: _Parsed) -> str:
    for parsed in (left, right):
        node = parsed.node
        if (
            isinstance(node, _Literal)
            and isinstance(node.value, str)
            and _NUMBER.fullmatch(node.value)
            and NUMBER in left.kinds | right.kinds
        ):
            return f"; write {node.value} without quotes"
    return ""
