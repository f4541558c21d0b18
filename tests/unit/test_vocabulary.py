"""The SDKs cannot import the service's vocabulary, so these tests hold their words to it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest
from nudge_sdk import models

from app.engine.vocabulary import PROMPT_EVENT_TYPES, PROMPT_STYLES, USAGE_OPS

BROWSER_SDK = Path(__file__).resolve().parents[2] / "sdk" / "js"


def _declared_union(name: str) -> tuple[str, ...]:
    """The string literals of `export type <name> = "a" | "b";` in nudge.d.ts."""
    declarations = (BROWSER_SDK / "nudge.d.ts").read_text()
    found = re.search(rf"^export type {name} = ([^;]+);", declarations, re.MULTILINE)
    assert found is not None, f"nudge.d.ts declares no type {name}"
    return tuple(re.findall(r'"([^"]*)"', found.group(1)))


def _listed_constant(name: str) -> tuple[str, ...]:
    """The strings of `const <name> = ["a", "b"];` in nudge.js."""
    source = (BROWSER_SDK / "nudge.js").read_text()
    found = re.search(rf"^const {name} = \[([^\]]*)\];", source, re.MULTILINE)
    assert found is not None, f"nudge.js has no constant {name}"
    return tuple(re.findall(r'"([^"]*)"', found.group(1)))


def test_the_python_sdk_spells_styles_event_types_and_usage_ops_as_the_service_does() -> None:
    assert get_args(models.PromptStyle) == PROMPT_STYLES
    assert get_args(models.PromptEventType) == PROMPT_EVENT_TYPES
    assert get_args(models.UsageOp) == USAGE_OPS


@pytest.mark.parametrize(
    ("declared", "words"),
    [("PromptStyle", PROMPT_STYLES), ("PromptEventType", PROMPT_EVENT_TYPES)],
)
def test_the_browser_sdk_types_spell_the_words_as_the_service_does(
    declared: str, words: tuple[str, ...]
) -> None:
    assert _declared_union(declared) == words


@pytest.mark.parametrize(
    ("constant", "words"), [("STYLES", PROMPT_STYLES), ("EVENT_TYPES", PROMPT_EVENT_TYPES)]
)
def test_the_browser_sdk_checks_answers_against_the_same_words(
    constant: str, words: tuple[str, ...]
) -> None:
    assert _listed_constant(constant) == words
