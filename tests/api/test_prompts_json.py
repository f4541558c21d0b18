"""The prompt path builds its JSON by hand (pydantic costs more than the request's own
work); it must say exactly what PromptsOut, the OpenAPI document's model, declares."""

from __future__ import annotations

import pytest

from app.api.routes.prompts import prompts_json
from app.api.schemas.prompts import PromptOut, PromptsOut
from app.engine import RenderedPrompt
from app.services.prompts import PromptAnswer, ServedPrompt

FULL = RenderedPrompt(
    trigger="seats-full",
    metric="seats",
    usage=3.0,
    limit=3.0,
    plan="free",
    upgrade_plan="team",
    style="modal",
    title="Your team is full",
    body="free includes 3 seats.",
    cta_label="Upgrade",
    cta_url="/billing/upgrade?plan=team",
)
BARE = RenderedPrompt(
    trigger="retail-welcome",
    metric=None,
    usage=None,
    limit=None,
    plan="business",
    upgrade_plan=None,
    style="banner",
    title="Welcome",
    body=None,
    cta_label=None,
    cta_url=None,
)


@pytest.mark.parametrize("rendered", [FULL, BARE], ids=["every field", "the nullable ones null"])
def test_the_hand_built_answer_is_what_the_model_declares(rendered: RenderedPrompt) -> None:
    answer = PromptAnswer(prompts=[ServedPrompt("signed-id", rendered)])

    built = prompts_json(answer)

    assert PromptsOut.model_validate(built).model_dump(mode="json") == built
    assert set(built["prompts"][0]) == set(PromptOut.model_fields)


def test_whole_numbers_are_json_integers_as_the_model_writes_them() -> None:
    built = prompts_json(PromptAnswer(prompts=[ServedPrompt("signed-id", FULL)]))

    assert (built["prompts"][0]["usage"], built["prompts"][0]["limit"]) == (3, 3)
    assert isinstance(built["prompts"][0]["usage"], int)


def test_a_degraded_answer_is_the_model_with_no_prompts() -> None:
    built = prompts_json(PromptAnswer(prompts=[], degraded=True))

    assert PromptsOut.model_validate(built) == PromptsOut(prompts=[], degraded=True)
    assert built == {"prompts": [], "degraded": True}
