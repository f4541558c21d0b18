"""How a rule test's expectation and the engine's answer differ, as lines for a terminal.

Prompts print as YAML, one key a line, in the shape the case wrote them: an actual
prompt shows only the keys the case gives for its trigger (a prompt the case did not
expect shows its trigger, style and title), so the diff points at what matters.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence, Set
from typing import Any

from app.engine.model.evaluation import RenderedPrompt
from app.engine.model.templating import format_number

# The keys of a prompt a case may expect, in the order a diff shows them.
PROMPT_KEYS = (
    "trigger",
    "style",
    "title",
    "body",
    "cta",
    "metric",
    "usage",
    "limit",
    "plan",
    "upgrade_plan",
)
# The keys that hold prompt texts, which a diff always quotes; names print plain.
TEXT_KEYS = frozenset({"title", "body", "cta"})
_PLAIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# What a diff shows of a prompt the case did not expect.
UNEXPECTED_PROMPT_KEYS = ("trigger", "style", "title")


def prompts_diff(
    expected: Sequence[Mapping[str, Any]], actual: Sequence[RenderedPrompt]
) -> list[str]:
    """Nothing when the prompts are as expected; else - expected and + actual lines.

    A prompt of the same trigger on both sides is diffed key by key, with ? lines under
    the characters that differ; the others show whole.
    """
    projected = [_project(prompt, _shape_for(prompt, expected)) for prompt in actual]
    if projected == list(expected):
        return []
    return _diff(expected, projected)


def ids_diff(expected: Set[str], actual: Set[str]) -> list[str]:
    """Two sets of trigger ids as one - line and one + line."""
    return _ndiff([_id_list(expected)], [_id_list(actual)])


def _shape_for(prompt: RenderedPrompt, expected: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """What to compare an actual prompt on: the keys the case gives for its trigger."""
    for wanted in expected:
        if wanted["trigger"] == prompt.trigger:
            return wanted
    return dict.fromkeys(UNEXPECTED_PROMPT_KEYS)


def _project(prompt: RenderedPrompt, shape: Mapping[str, Any]) -> dict[str, Any]:
    """The actual prompt's values of the keys in `shape` (of cta, the keys it gives)."""
    values: dict[str, Any] = {
        "trigger": prompt.trigger,
        "style": prompt.style,
        "title": prompt.title,
        "body": prompt.body,
        "cta": None,
        "metric": prompt.metric,
        "usage": prompt.usage,
        "limit": prompt.limit,
        "plan": prompt.plan,
        "upgrade_plan": prompt.upgrade_plan,
    }
    if prompt.cta_label is not None or prompt.cta_url is not None:
        cta = {"label": prompt.cta_label, "url": prompt.cta_url}
        wanted = shape.get("cta")
        values["cta"] = {k: cta[k] for k in wanted} if isinstance(wanted, Mapping) else cta
    return {key: values[key] for key in shape}


def _diff(expected: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]]) -> list[str]:
    if not expected or not actual:
        return [f"- {line}" for line in _prompt_lines(expected)] + [
            f"+ {line}" for line in _prompt_lines(actual)
        ]
    matcher = difflib.SequenceMatcher(
        None, [p["trigger"] for p in expected], [p["trigger"] for p in actual], autojunk=False
    )
    lines: list[str] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for wanted, got in zip(expected[i1:i2], actual[j1:j2], strict=True):
                lines += _ndiff(_prompt_lines([wanted]), _prompt_lines([got]))
            continue
        if i2 > i1:
            lines += [f"- {line}" for line in _prompt_lines(expected[i1:i2])]
        if j2 > j1:
            lines += [f"+ {line}" for line in _prompt_lines(actual[j1:j2])]
    return lines


def _prompt_lines(prompts: Sequence[Mapping[str, Any]]) -> list[str]:
    """Prompts as YAML, one key a line, so that a diff points at the key that differs."""
    if not prompts:
        return ["[]"]
    lines = []
    for prompt in prompts:
        for index, (key, value) in enumerate(prompt.items()):
            text = _yaml_value(value, quote=key in TEXT_KEYS)
            lines.append(f"{'- ' if index == 0 else '  '}{key}: {text}")
    return lines


def _yaml_value(value: Any, *, quote: bool = True) -> str:
    """A value as YAML flow text; texts quoted, so that spaces and empty ones show."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in value.items()) + "}"
    if not quote and _PLAIN.match(str(value)):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _id_list(ids: Set[str]) -> str:
    return "[" + ", ".join(sorted(ids)) + "]"


def _ndiff(expected: list[str], actual: list[str]) -> list[str]:
    """pytest's way: - expected, + actual, and ? lines that point at what changed."""
    return [line.rstrip() for line in difflib.ndiff(expected, actual)]
