"""Placeholders in prompt text: what each renders to, and what is refused at load time."""

from __future__ import annotations

import pytest

from app.engine.model.templating import compile_template, format_number, placeholder_values
from tests.support.evaluation import prompts
from tests.support.rule_sets import trigger, with_triggers


def _render(
    text: str,
    *,
    usage: float = 2,
    limit: float | None = 3,
    upgrade_plan: str | None = "team",
    upgrade_limit: float | None = 25,
) -> str:
    values = placeholder_values(
        usage=usage,
        limit=limit,
        metric="seats",
        plan="free",
        upgrade_plan=upgrade_plan,
        upgrade_limit=upgrade_limit,
    )
    return compile_template(text).render(values)


@pytest.mark.parametrize(
    ("text", "rendered"),
    [
        ("{usage}", "2"),
        ("{limit}", "3"),
        ("{remaining}", "1"),
        ("{percent}", "66"),
        ("{metric}", "seats"),
        ("{plan}", "free"),
        ("{upgrade_plan}", "team"),
        ("{upgrade_limit}", "25"),
        ("{usage} of {limit} ({percent}%), {remaining} left", "2 of 3 (66%), 1 left"),
    ],
)
def test_each_placeholder_renders_its_value(text: str, rendered: str) -> None:
    assert _render(text) == rendered


@pytest.mark.parametrize(
    ("usage", "limit", "percent"), [(0, 3, "0"), (2, 3, "66"), (999, 1000, "99"), (5, 3, "166")]
)
def test_percent_is_rounded_down(usage: float, limit: float, percent: str) -> None:
    assert _render("{percent}", usage=usage, limit=limit) == percent


def test_remaining_never_goes_below_zero() -> None:
    assert _render("{remaining}", usage=5, limit=3) == "0"


def test_no_limit_renders_unlimited() -> None:
    text = "{limit}/{remaining}/{upgrade_limit}"
    assert _render(text, limit=None, upgrade_limit=None) == "unlimited/unlimited/unlimited"


def test_upgrade_plan_is_empty_where_the_plan_has_no_upgrade() -> None:
    assert _render("[{upgrade_plan}]", upgrade_plan=None, upgrade_limit=None) == "[]"


def test_double_braces_are_literal_braces() -> None:
    assert _render("{{usage}} is {usage}") == "{usage} is 2"


@pytest.mark.parametrize(
    ("value", "text"), [(3.0, "3"), (3, "3"), (2.5, "2.5"), (0.1, "0.1"), (10000.0, "10000")]
)
def test_numbers_render_as_people_write_them(value: float, text: str) -> None:
    assert format_number(value) == text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{usag}", 'unknown placeholder "{usag}"'),
        ("{}", 'unknown placeholder "{}"'),
        ("{usage:.2f}", 'placeholder "{usage}" takes no format'),
        ("{usage!r}", 'placeholder "{usage}" takes no format'),
        ("{usage", "write {{ and }} for literal braces"),
        ("usage}", "write {{ and }} for literal braces"),
    ],
)
def test_malformed_placeholder_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        compile_template(text)
    assert message in str(caught.value)


def test_prompt_renders_unlimited_and_empty_upgrade_on_the_top_plan() -> None:
    rules = with_triggers(
        trigger(
            "api-used",
            metric="api_calls",
            threshold="1",
            title="{usage} of {limit}, {remaining} left; [{upgrade_plan}] {upgrade_limit}",
            extra="plans: [business]",
        )
    )
    [prompt] = prompts(rules, usage={"api_calls": 2.5}, plan="business")
    assert prompt.title == "2.5 of unlimited, unlimited left; [] unlimited"
    assert prompt.upgrade_plan is None
    assert prompt.limit is None


def test_prompt_upgrade_limit_is_the_limit_on_the_next_plan() -> None:
    rules = with_triggers(trigger("seats-full", title="{upgrade_plan}: {upgrade_limit}"))
    [prompt] = prompts(rules, usage={"seats": 3})
    assert prompt.title == "team: 25"


def test_prompt_placeholders_render_in_body_and_call_to_action() -> None:
    rules = with_triggers(
        """\
  - id: seats-full
    metric: seats
    threshold: 100%
    prompt:
      title: t
      body: "{plan} has {limit} {metric}"
      cta: {label: "Go {upgrade_plan}", url: "/up?plan={upgrade_plan}&n={usage}"}
"""
    )
    [prompt] = prompts(rules, usage={"seats": 4})
    assert prompt.body == "free has 3 seats"
    assert (prompt.cta_label, prompt.cta_url) == ("Go team", "/up?plan=team&n=4")
