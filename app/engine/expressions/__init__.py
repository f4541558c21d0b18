"""Conditions for `when:`: a small, safe expression language, parsed and compiled once.

Grammar, lowest precedence first (`{x}` repeats, `[x]` is optional):

    condition  = or_expr
    or_expr    = and_expr {"or" and_expr}
    and_expr   = not_expr {"and" not_expr}
    not_expr   = "not" not_expr | comparison
    comparison = sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum | ["not"] "in" list]
    sum        = product {("+" | "-") product}
    product    = unary {("*" | "/") unary}
    unary      = "-" unary | primary
    primary    = NUMBER | STRING | "true" | "false" | "null" | "(" or_expr ")"
               | METRIC | "limit." METRIC | "plan" | "account." ATTRIBUTE
    list       = "[" item {"," item} [","] "]"
    item       = ["-"] NUMBER | STRING | "true" | "false" | "null"

    NUMBER     = digits ["." digits] [("e" | "E") ["+" | "-"] digits]    3  2.5  1e3
    STRING     = "..." or '...'; a backslash escapes a quote or a backslash, nothing else
    METRIC     = a metric of the rule set, such as seats
    ATTRIBUTE  = [A-Za-z_][A-Za-z0-9_]*

Keywords are lowercase only (`and or not in true false null plan limit account`); a
metric named like one cannot be read by its bare name. There are no calls, no indexing
and no dots other than the two fixed prefixes `limit.` and `account.`.

What the names stand for: a metric is the account's usage (0 where none is recorded);
`limit.<metric>` is the plan's limit, or null where the plan leaves the metric unlimited;
`plan` is the plan's name; `account.<attribute>` is the attribute's JSON value.

Types: numbers, strings, booleans and null are distinct (a boolean is not a number).
`==` and `!=` never find values of two types equal (`1 == true` is false, `1 == 1.0` is
true); `<`, `<=`, `>`, `>=` compare two numbers or two strings (by code point); `+ - * /`
and unary `-` take numbers; `and`, `or` and `not` take booleans; `x in [a, b]` is
`x == a or x == b`. Comparisons do not chain: `1 < seats < 3` is an error that suggests
`1 < seats and seats < 3`. `and` and `or` read left to right and stop once the answer
is known, so `limit.seats == 0 or seats / limit.seats > 0.8` never divides by zero.

Load time: a syntax error, an unknown name, an empty condition, a condition that is not
true-or-false (`seats`), a type mismatch visible without an account (`"a" + 1`,
`not seats`, `plan == 3`, `seats == null`, `seats in ["1"]`) and a division by a literal
zero raise ExpressionError with the offset of the mistake.

Run time: the condition is false for the account, never an error, when evaluation reaches
a value it cannot use: a missing attribute, an unlimited limit in arithmetic or in
`<`/`<=`/`>`/`>=` (so `seats >= limit.seats` is false on a plan without a seat limit; test
for one with `limit.seats == null`), a division by zero, a number too large, or an
attribute of the wrong type for its operator or holding a list or an object. The whole
condition is false then: `not (seats >= limit.seats)` is false on an unlimited plan too.

Limits: a condition has at most MAX_LENGTH characters and nests parentheses, `not` and
unary `-` at most MAX_DEPTH deep; chains of `and`, `or`, `+` ... are flat lists, so both
parsing and evaluation take time linear in the text and bounded stack.
"""

from __future__ import annotations

from app.engine.expressions.parser import compile_condition
from app.engine.expressions.tree import Condition
from app.engine.expressions.values import MAX_DEPTH, MAX_LENGTH, Environment, ExpressionError

__all__ = [
    "MAX_DEPTH",
    "MAX_LENGTH",
    "Condition",
    "Environment",
    "ExpressionError",
    "compile_condition",
]
