"""The compiled tree of a condition, and Condition, which evaluates it without raising."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

from app.engine.expressions.values import (
    _ORDERS,
    Environment,
    Value,
    _describe_value,
    _equal,
    _Undefined,
)

# The name the module had before it became a package, so that log filters keep working.
_log = logging.getLogger("app.engine.expressions")

# --- the compiled tree -------------------------------------------------------------------


class _Node:
    __slots__ = ()
    text: str  # the node's source, for the reason a condition could not be evaluated

    def evaluate(self, env: Environment) -> Value:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class _Literal(_Node):
    text: str
    value: Value

    def evaluate(self, env: Environment) -> Value:
        return self.value


@dataclass(frozen=True, slots=True)
class _Usage(_Node):
    text: str

    def evaluate(self, env: Environment) -> Value:
        return float(env.usage.get(self.text, 0))


@dataclass(frozen=True, slots=True)
class _Limit(_Node):
    text: str
    metric: str

    def evaluate(self, env: Environment) -> Value:
        limit = env.limits.get(self.metric)
        return None if limit is None else float(limit)


@dataclass(frozen=True, slots=True)
class _Plan(_Node):
    text: str

    def evaluate(self, env: Environment) -> Value:
        return env.plan


@dataclass(frozen=True, slots=True)
class _Attribute(_Node):
    text: str
    name: str

    def evaluate(self, env: Environment) -> Value:
        if self.name not in env.attributes:
            raise _Undefined(f"{self.text} is missing")
        value = env.attributes[self.name]
        if value is None or isinstance(value, bool | str):
            return value
        if isinstance(value, int | float):
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if math.isfinite(number):
                return number
            raise _Undefined(f"{self.text} is not a finite number")
        raise _Undefined(f"{self.text} is a {type(value).__name__}, which conditions cannot use")


@dataclass(frozen=True, slots=True)
class _Negate(_Node):
    text: str
    operand: _Node

    def evaluate(self, env: Environment) -> Value:
        return -_number(self.operand, env, op="-")


@dataclass(frozen=True, slots=True)
class _Arithmetic(_Node):
    text: str
    first: _Node
    rest: tuple[tuple[str, _Node], ...]  # (operator, operand), all of one precedence

    def evaluate(self, env: Environment) -> Value:
        result = _number(self.first, env, op=self.rest[0][0])
        for op, node in self.rest:
            right = _number(node, env, op=op)
            if op == "+":
                result += right
            elif op == "-":
                result -= right
            elif op == "*":
                result *= right
            elif right == 0:
                raise _Undefined(f"division by zero: {node.text} is 0")
            else:
                result /= right
        if not math.isfinite(result):
            raise _Undefined(f"{self.text} is too large")
        return result


@dataclass(frozen=True, slots=True)
class _Compare(_Node):
    text: str
    op: str
    left: _Node
    right: _Node

    def evaluate(self, env: Environment) -> Value:
        a, b = self.left.evaluate(env), self.right.evaluate(env)
        if self.op == "==":
            return _equal(a, b)
        if self.op == "!=":
            return not _equal(a, b)
        if (isinstance(a, str) and isinstance(b, str)) or (type(a) is float and type(b) is float):
            return _ORDERS[self.op](a, b)
        raise _Undefined(
            f'"{self.op}" compares two numbers or two strings, but '
            f"{_describe_node(self.left, a)} and {_describe_node(self.right, b)}"
        )


@dataclass(frozen=True, slots=True)
class _Membership(_Node):
    text: str
    operand: _Node
    items: tuple[Value, ...]
    negated: bool

    def evaluate(self, env: Environment) -> Value:
        value = self.operand.evaluate(env)
        return any(_equal(value, item) for item in self.items) != self.negated


@dataclass(frozen=True, slots=True)
class _Not(_Node):
    text: str
    operand: _Node

    def evaluate(self, env: Environment) -> Value:
        return not _boolean(self.operand, env, what='"not"')


@dataclass(frozen=True, slots=True)
class _AllOf(_Node):
    text: str
    operands: tuple[_Node, ...]

    def evaluate(self, env: Environment) -> Value:
        return all(_boolean(node, env, what='"and"') for node in self.operands)


@dataclass(frozen=True, slots=True)
class _AnyOf(_Node):
    text: str
    operands: tuple[_Node, ...]

    def evaluate(self, env: Environment) -> Value:
        return any(_boolean(node, env, what='"or"') for node in self.operands)


def _describe_node(node: _Node, value: Value) -> str:
    if value is None and isinstance(node, _Limit):
        return f"{node.text} is unlimited"
    return f"{node.text} is {_describe_value(value)}"


def _number(node: _Node, env: Environment, *, op: str) -> float:
    value = node.evaluate(env)
    if type(value) is float:
        return value
    raise _Undefined(f'"{op}" needs numbers, but {_describe_node(node, value)}')


def _boolean(node: _Node, env: Environment, *, what: str) -> bool:
    value = node.evaluate(env)
    if isinstance(value, bool):
        return value
    raise _Undefined(f"{what} needs true or false, but {_describe_node(node, value)}")


# --- the public compiled condition -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled `when:` condition; evaluating it never raises."""

    source: str
    metrics: frozenset[str]  # metrics the condition reads, as usage or as limit
    tree: _Node = field(repr=False, compare=False)

    def holds(self, env: Environment) -> bool:
        """Whether the condition is true for this account; false where it cannot be decided."""
        return self.outcome(env)[0]

    def outcome(self, env: Environment) -> tuple[bool, str | None]:
        """Whether the condition holds and, where evaluation had to stop, the reason in words."""
        try:
            value = self.tree.evaluate(env)
        except _Undefined as exc:
            return False, str(exc)
        except Exception:
            # A bug here must not turn into a 500 on the prompt path; say so loudly instead.
            _log.exception("condition %r failed unexpectedly", self.source)
            return False, "internal error while evaluating the condition"
        if isinstance(value, bool):
            return value, None
        return False, f"the condition is {_describe_value(value)}, not true or false"
