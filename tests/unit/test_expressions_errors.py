"""`when:` conditions at load time: every mistake is an ExpressionError at the right spot."""

from __future__ import annotations

import ast
import random
from pathlib import Path

import pytest

import app.engine.expressions
from app.engine.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    Condition,
    Environment,
    ExpressionError,
    compile_condition,
)

METRICS = ("seats", "dashboards", "api_calls")
KNOWN = "(metrics: api_calls, dashboards, seats; also plan, limit.<metric>, account.<attribute>)"


def _error(text: str, metrics: tuple[str, ...] = METRICS) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        compile_condition(text, metrics=metrics)
    return caught.value


# (text, offset, message): the offset is where the caret goes.
SYNTAX_ERRORS = [
    ("", 0, 'the condition is empty; write one such as "seats >= 3"'),
    ("   ", 0, 'the condition is empty; write one such as "seats >= 3"'),
    ("seats >= 3 and", 14, 'expected an expression after "and"'),
    ("seats >= 3 and  ", 14, 'expected an expression after "and"'),
    ("seats >= and 3", 9, 'expected an expression after ">=", found "and"'),
    ("and seats > 1", 0, 'expected an expression, found "and"'),
    ("seats >", 7, 'expected an expression after ">"'),
    ("seats > -", 9, 'expected an expression after "-"'),
    ("seats > 1 or", 12, 'expected an expression after "or"'),
    ("not", 3, 'expected an expression after "not"'),
    ("(seats > 1", 0, 'unclosed parenthesis; add ")"'),
    ("((seats > 1)", 0, 'unclosed parenthesis; add ")"'),
    ("(seats > 1 4)", 11,
     'expected an operator or ")" to close the parenthesis opened at column 1; found "4"'),
    ("seats > 1)", 9, 'unmatched ")"; there is no "(" for it'),
    ("()", 1, 'expected an expression after "(", found ")"'),
    ('plan == "free', 8, 'unterminated string; close it with "'),
    ("plan == 'free", 8, "unterminated string; close it with '"),
    ('plan == "free\\"', 8, 'unterminated string; close it with "'),
    ('plan == "a\\n"', 10,
     '"\\n" is not an escape; in a string a backslash escapes only a quote or a backslash '
     '(write "\\\\" for a backslash)'),
    ("seats = 3", 6, '"=" is not an operator; write "==" to compare'),
    ("seats === 3", 6, '"===" is not an operator; write "=="'),
    ("seats !== 3", 6, '"!==" is not an operator; write "!="'),
    ("seats <> 3", 6, '"<>" is not an operator; write "!="'),
    ("seats => 3", 6, '"=>" is not an operator; write ">="'),
    ("seats =< 3", 6, '"=<" is not an operator; write "<="'),
    ("seats > 1 && seats < 3", 10, '"&&" is not an operator; write "and"'),
    ("seats > 1 || seats < 3", 10, '"||" is not an operator; write "or"'),
    ("!(seats > 1)", 0, '"!" is not an operator; write "not"'),
    ("seats ** 2 > 1", 6, '"**" is not an operator; there is no power operator'),
    ("seats % 2 == 0", 6, '"%" is not an operator; there is no remainder operator'),
    ("seats $ 1", 6, 'unexpected character "$"'),
    ("seats > 1 # note", 10, 'unexpected character "#"'),
    ("seats > 1\x00", 9, "unexpected character U+0000"),
    ("seats > 1 4", 10,
     'unexpected "4"; expected an operator, "and", "or" or the end of the condition'),
    ("seats > 1 adn seats < 3", 10, 'unexpected "adn"; did you mean "and"?'),
    ("seats > 1 AND seats < 3", 10, 'write "and" in lowercase; keywords are lowercase'),
    ("seats is 3", 6, '"is" is not an operator; write "==" (or "!=" for "is not")'),
    ("seats not 3", 6, '"not" goes before a condition, as in "not (seats > 3)", or before "in"'),
    ("1 < seats < 3", 10,
     'comparisons do not chain; join them with "and", as in "1 < seats and seats < 3"'),
    ("seats == 3 == true", 11,
     'comparisons do not chain; join them with "and", as in "seats == 3 and 3 == true"'),
    ("seats in [3] in [true]", 13,
     'comparisons do not chain; join them with "and" (or group one in parentheses)'),
    ("seats > 1 in [true]", 10,
     'comparisons do not chain; join them with "and" (or group one in parentheses)'),
    ("seats in 3", 9, '"in" takes a list in brackets, as in plan in ["free", "team"]; found "3"'),
    ("seats in [1, 2", 9, 'unclosed list; add "]"'),
    ("seats in [1 2]", 12, 'expected "," or "]" in the list opened at column 10; found "2"'),
    ("seats in []", 9, '"in []" never matches; list at least one value'),
    ("seats in [dashboards]", 10,
     'a list after "in" holds only numbers, strings, true, false and null; found "dashboards"'),
    ("seats in [1 + 1]", 12,
     'expected "," or "]" in the list opened at column 10; found "+"'),
    ("1abc > 2", 0, '"1abc" is not a number; write 3, 2.5 or 1e3, and a space before a name'),
    ("1. > 2", 0, '"1." is not a number; write 3, 2.5 or 1e3, and a space before a name'),
    ("1_000 > 2", 0, '"1_000" is not a number; write 3, 2.5 or 1e3, and a space before a name'),
    ("seats > 1e999", 8, 'the number "1e999" is too large'),
    (".5 > 1", 0,
     '"." only joins limit or account to a name, as in limit.seats or account.industry'),
    ("seats(1) > 1", 5, '"(" cannot follow seats: conditions have no function calls'),
    ("seats[0] > 1", 5, 'conditions have no indexing; a list in brackets may only follow "in"'),
    ("seats / 0 > 1", 6, "division by zero"),
    ("seats / -0.0 > 1", 6, "division by zero"),
]  # fmt: skip

NAME_ERRORS = [
    ("dashbords >= 2", 0, f'unknown name "dashbords"; did you mean "dashboards"? {KNOWN}'),
    ("seats > 1 and pln == 'x'", 14, f'unknown name "pln"; did you mean "plan"? {KNOWN}'),
    ("velocity > 1", 0, f'unknown name "velocity" {KNOWN}'),
    ("limit.sets > 1", 6,
     f'unknown metric "sets" in "limit.sets"; did you mean "limit.seats"? {KNOWN}'),
    ("limit.plan > 1", 6, f'unknown metric "plan" in "limit.plan" {KNOWN}'),
    ("limit > 1", 0, '"limit" needs a metric: write limit.<metric>, as in limit.seats'),
    ("account == 1", 0,
     '"account" needs an attribute: write account.<attribute>, as in account.industry'),
    ("limit.seats.x > 1", 11, "limit.seats has no attributes; limit.<name> takes exactly one name"),
    ("account.a.b == 1", 9, "account.a has no attributes; account.<name> takes exactly one name"),
    ("plan.name == 'x'", 4,
     '"." only joins limit or account to a name, as in limit.seats or account.industry'),
    ("seats.limit > 1", 5,
     '"." only joins limit or account to a name, as in limit.seats or account.industry; '
     'for its limit write "limit.seats"'),
    ("limits.seats > 1", 0, 'unknown name "limits.seats"; did you mean "limit.seats"?'),
    ("acount.industry == 'x'", 0,
     'unknown name "acount.industry"; did you mean "account.industry"?'),
    ("limit. seats > 1", 0, '"limit" needs a metric: write limit.<metric>, as in limit.seats'),
    ("True", 0, 'write "true" in lowercase; keywords are lowercase'),
    ("seats > 1 and False", 14, 'write "false" in lowercase; keywords are lowercase'),
    ("account.x == NULL", 13, 'write "null" in lowercase; keywords are lowercase'),
    ("account.x == None", 13, '"None" is not a value; write null'),
    ("Seats > 1", 0, f'unknown name "Seats"; did you mean "seats"? {KNOWN}'),
]  # fmt: skip

TYPE_ERRORS = [
    ('"a" + 1 > 0', 0, '"+" works on numbers, but "a" is a string'),
    ("seats + plan > 0", 8, '"+" works on numbers, but plan is a string'),
    ("-plan == 1", 1, '"-" works on numbers, but plan is a string'),
    ("true * 2 > 1", 0, '"*" works on numbers, but true is a boolean'),
    ("seats + null > 1", 8, '"+" works on numbers, but null is null'),
    ("not 3", 4, '"not" takes a condition, but 3 is a number; compare it, as in "3 > 0"'),
    ("not plan", 4,
     "\"not\" takes a condition, but plan is a string; compare it, as in 'plan == \"...\"'"),
    ("seats and dashboards > 1", 0,
     '"and" joins conditions, but seats is a number; compare it, as in "seats > 0"'),
    ("seats > 1 or limit.seats", 13,
     '"or" joins conditions, but limit.seats is a number (or null where unlimited); '
     'compare it, as in "limit.seats > 0"'),
    ("seats", 0,
     'the condition must be true or false, but seats is a number; compare it, as in "seats > 0"'),
    ("seats + 1", 0, "the condition must be true or false, but seats + 1 is a number; "
     'compare it, as in "seats + 1 > 0"'),
    ("plan", 0, "the condition must be true or false, but plan is a string; "
     "compare it, as in 'plan == \"...\"'"),
    ("null", 0, "the condition must be true or false, but null is null"),
    ("plan == 3", 5, '"==" compares a string with a number, so plan == 3 is always false'),
    ("plan != 3", 5, '"!=" compares a string with a number, so plan != 3 is always true'),
    ('seats == "3"', 6,
     '"==" compares a number with a string, so seats == "3" is always false; '
     "write 3 without quotes"),
    ("seats == null", 6, '"==" compares a number with null, so seats == null is always false'),
    ("seats == true", 6,
     '"==" compares a number with a boolean, so seats == true is always false'),
    ("plan < 3", 5, '"<" cannot compare a string with a number'),
    ('seats >= "3"', 6, '">=" cannot compare a number with a string; write 3 without quotes'),
    ("true < 3", 0, '"<" compares numbers or strings, but true is a boolean'),
    ("seats > null", 8, '">" compares numbers or strings, but null is null'),
    ('seats in ["1"]', 10, 'seats is a number, so "1" can never match it'),
    ("plan in ['free', 3]", 17, "plan is a string, so 3 can never match it"),
    ("seats in [null]", 10, "seats is a number, so null can never match it"),
    ("plan in [-1]", 9, "plan is a string, so -1 can never match it"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "offset", "message"), SYNTAX_ERRORS + NAME_ERRORS + TYPE_ERRORS)
def test_mistake_is_reported_with_its_offset(text: str, offset: int, message: str) -> None:
    error = _error(text)
    assert (error.message, error.offset) == (message, offset)
    assert str(error) == message


def test_unknown_name_lists_the_metrics_or_says_there_are_none() -> None:
    assert _error("seats > 1", metrics=()).message == (
        'unknown name "seats" (no metrics are defined; '
        "also plan, limit.<metric>, account.<attribute>)"
    )
    many = tuple(f"metric_{n:02}" for n in range(15))
    assert "metric_11 and 3 more;" in _error("x > 1", metrics=many).message


def test_expression_error_is_a_value_error() -> None:
    assert isinstance(_error("seats >"), ValueError)


@pytest.mark.parametrize(
    ("text", "caret"),
    [
        ("dashbords >= 2", "dashbords >= 2\n^"),
        ("seats >= 3 and", "seats >= 3 and\n              ^"),
        ("seats = 3", "seats = 3\n      ^"),
        ("seats > 1 and\nplan = 'x'", "plan = 'x'\n     ^"),
        ("\tseats = 3", "\tseats = 3\n\t      ^"),
    ],
)
def test_caret_points_at_the_mistake(text: str, caret: str) -> None:
    assert _error(text).caret(text) == caret


@pytest.mark.parametrize(
    ("text", "position"),
    [("seats = 3", (1, 7)), ("seats > 1 and\nplan = 'x'", (2, 6)), ("seats >", (1, 8))],
)
def test_position_is_line_and_column_within_the_condition(
    text: str, position: tuple[int, int]
) -> None:
    assert _error(text).position(text) == position


def test_whitespace_and_newlines_separate_tokens() -> None:
    text = "dashboards >= 2\n  and\tseats >= 3"
    env = Environment(usage={"dashboards": 2, "seats": 3}, limits={}, plan="free", attributes={})
    assert compile_condition(text, metrics=METRICS).holds(env)


def test_condition_longer_than_the_limit_is_refused() -> None:
    text = "seats > 1 and " * 80 + "seats > 1"
    assert len(text) > MAX_LENGTH
    error = _error(text)
    assert (error.message, error.offset) == (
        f"the condition is {len(text)} characters long; the limit is {MAX_LENGTH}: "
        "split it across triggers",
        MAX_LENGTH,
    )


def test_condition_at_the_length_limit_compiles_and_evaluates_in_a_flat_chain() -> None:
    text = "seats" + " + 1" * ((MAX_LENGTH - 10) // 4) + " > 1"
    assert len(text) <= MAX_LENGTH
    env = Environment(usage={"seats": 0}, limits={}, plan="free", attributes={})
    assert compile_condition(text, metrics=METRICS).holds(env)


@pytest.mark.parametrize(
    ("opening", "closing"), [("(", ")"), ("not (", ")"), ("-(", ")"), ("not ", ""), ("-", "")]
)
def test_nesting_deeper_than_the_limit_is_refused(opening: str, closing: str) -> None:
    levels = MAX_DEPTH // len(opening.split()) + 1
    inner = "seats" if opening.startswith("-") else "seats > 1"
    tail = " > 1" if opening.startswith("-") else ""
    text = opening * levels + inner + closing * levels + tail
    error = _error(text)
    assert error.message == f"the condition nests more than {MAX_DEPTH} levels deep; simplify it"


def test_nesting_at_the_limit_compiles_and_evaluates() -> None:
    text = "(" * (MAX_DEPTH - 1) + "-seats < 0" + ")" * (MAX_DEPTH - 1)
    env = Environment(usage={"seats": 2}, limits={}, plan="free", attributes={})
    assert compile_condition(text, metrics=METRICS).holds(env)


@pytest.mark.parametrize(
    "text",
    [
        '__import__("os").system("ls")',
        "__import__",
        "().__class__",
        "().__class__.__bases__[0].__subclasses__()",
        "seats.__class__",
        "account.__class__.__mro__",
        "limit.__class__",
        "lambda: 1",
        "lambda x: x",
        'eval("1")',
        'exec("1")',
        'open("/etc/passwd")',
        "import os",
        "os.system('ls')",
        "[].append",
        "{}",
        "{'a': 1}",
        '"".join([])',
        "seats if true else false",
        "[x for x in seats]",
        "f'{seats}'",
        "seats; 1",
        "seats := 1",
        "globals()",
        "getattr(seats, 'x')",
        "print(1)",
        "True",
        "None",
    ],
)
def test_python_is_not_reachable(text: str) -> None:
    _error(text)


def test_account_dunder_is_just_an_attribute_name() -> None:
    condition = compile_condition("account.__class__ == null", metrics=METRICS)
    env = Environment(usage={}, limits={}, plan="free", attributes={})
    assert condition.holds(env) is False  # a missing attribute, never Python's __class__


def test_module_never_runs_python_on_the_condition_text() -> None:
    tree = ast.parse(Path(app.engine.expressions.__file__).read_text())
    calls = [node.func for node in ast.walk(tree) if isinstance(node, ast.Call)]
    names = {func.id for func in calls if isinstance(func, ast.Name)}
    attributes = {func.attr for func in calls if isinstance(func, ast.Attribute)}
    assert not names & {"eval", "exec", "compile", "getattr", "__import__"}
    assert not attributes & {"literal_eval", "eval", "exec"}


PIECES = [
    "seats", "dashboards", "limit.seats", "limit.api_calls", "plan", "account.x", "account.",
    "limit", "account", "true", "false", "null", "and", "or", "not", "in", "0", "1", "2.5",
    "1e3", "-", "+", "*", "/", "==", "!=", "<", "<=", ">", ">=", "=", "!", "(", ")", "[", "]",
    ",", "'a'", '"b"', '"', "'", "\\", ".", " ", " ", "\n", "\t", "é", "__class__", "lambda",
    ":", "#", "{", "}", "1e999", "&&", "||",
]  # fmt: skip

ENVIRONMENTS = [
    Environment(usage={}, limits={}, plan="free", attributes={}),
    Environment(
        usage={"seats": 3, "dashboards": 0},
        limits={"seats": 3, "dashboards": 0, "api_calls": None},
        plan="team",
        attributes={"x": "retail"},
    ),
    Environment(usage={"seats": -2}, limits={"seats": 0}, plan="", attributes={"x": [1]}),
]


def _check_never_surprising(text: str) -> bool:
    """Compile `text`; True if it compiled, after evaluating it on every environment."""
    try:
        condition = compile_condition(text, metrics=METRICS)
    except ExpressionError as error:
        assert 0 <= error.offset <= max(len(text), MAX_LENGTH)
        assert error.message
        error.caret(text)
        return False
    assert isinstance(condition, Condition)
    for env in ENVIRONMENTS:
        holds, reason = condition.outcome(env)
        assert isinstance(holds, bool)
        assert reason is None or "internal error" not in reason, (text, reason)
    return True


def test_random_garbage_compiles_or_raises_expression_error_only() -> None:
    rng = random.Random(20240601)
    compiled = 0
    for _ in range(5000):
        text = "".join(
            rng.choice(PIECES) + rng.choice(("", " ")) for _ in range(rng.randint(1, 12))
        )
        compiled += _check_never_surprising(text)
    assert compiled > 20  # the generator does reach valid conditions, not only errors


def test_random_characters_compile_or_raise_expression_error_only() -> None:
    rng = random.Random(7)
    alphabet = "abcdeilmnoprstu_.0123456789 ()[],'\"\\=<>!+-*/&|%^$#\n\t\x00é"
    for _ in range(5000):
        _check_never_surprising("".join(rng.choices(alphabet, k=rng.randint(0, 30))))


def test_mutated_valid_conditions_compile_or_raise_expression_error_only() -> None:
    rng = random.Random(11)
    seeds = [
        'dashboards >= 2 and seats >= 3 or plan in ["free", "team"]',
        "not (limit.seats - seats <= 1) and account.x == 'retail'",
        "seats * 100 / limit.seats >= 80 and -api_calls < 2.5e1",
    ]
    for _ in range(3000):
        chars = list(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            index = rng.randrange(len(chars))
            action = rng.random()
            if action < 0.4:
                del chars[index]
            elif action < 0.7:
                chars.insert(index, rng.choice(chars))
            else:
                chars[index], chars[-1] = chars[-1], chars[index]
        _check_never_surprising("".join(chars))
