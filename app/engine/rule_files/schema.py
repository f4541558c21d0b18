"""The rule-file format as data: what one YAML file may contain.

These models check shape and types only (unknown keys, required keys, value
forms); references between files and placeholders are checked by the compiler,
which sees the whole merged rule set.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Annotated, Self

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    model_validator,
)
from pydantic.config import JsonDict
from pydantic_core import PydanticCustomError

from app.engine.rule_files.value_types import Duration, Limit, Name, Span, Threshold, TriggerId
from app.engine.vocabulary import (
    CapKey,
    CapScope,
    CounterWindow,
    MetricType,
    PromptStyle,
    SignalType,
    TriggerMode,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# The descriptions are what an editor shows on hover (see json_schema.py).
class MetricSpec(_Strict):
    """A metric: a usage level (gauge) or a count within a window (counter)."""

    type: MetricType = Field(
        description="gauge: a level the app sets or moves (seats, dashboards); "
        "counter: a count that starts again at zero each window"
    )
    window: CounterWindow | None = Field(
        None,
        description="The calendar window (UTC) a counter counts in; required for a counter, "
        "not allowed on a gauge",
    )
    description: StrictStr | None = Field(None, description="Free text, shown by GET /v1/rules")


class PlanSpec(_Strict):
    """A plan: its limits and the plan to upgrade to."""

    limits: dict[Name, Limit] = Field(
        default_factory=dict,
        description="Metric name -> limit (a number >= 0); a metric left out is unlimited "
        "on this plan",
        json_schema_extra={"default": {}},
    )
    upgrade_to: Name | None = Field(
        None, description="The next plan, which {upgrade_plan} and {upgrade_limit} refer to"
    )
    description: StrictStr | None = Field(None, description="Free text")


class FrequencySpec(_Strict):
    """At most `count` in any span of `per`."""

    count: StrictInt = Field(ge=1, le=1000, description="How many, 1 to 1000")
    per: Span = Field(description="Within how long: 30m, 12h, 3d, 2w")


class CapSpec(FrequencySpec):
    """A frequency cap across triggers, counted from `shown` events."""

    scope: CapScope = Field(
        "user",
        description="user: prompts shown to each user; account: to all users of the account",
    )


def _as_list(value: object) -> object:
    if isinstance(value, dict):
        return [value]
    if not isinstance(value, list):
        raise ValueError(
            f"{value!r} is not a cap: write {{count: 1, per: 1d}}, or a list of such caps"
        )
    return value


# One cap, or a list of caps on the same key; the loader always sees a list.
CapList = Annotated[
    list[CapSpec], BeforeValidator(_as_list, json_schema_input_type=CapSpec | list[CapSpec])
]


class CtaSpec(_Strict):
    """The call to action: a button or link."""

    label: StrictStr = Field(description="Text of the button; placeholders allowed")
    url: StrictStr = Field(description="Where it leads; placeholders allowed")


class PromptSpec(_Strict):
    """What the frontend shows when the trigger fires."""

    style: PromptStyle = Field("banner", description="How the frontend shows the prompt")
    title: StrictStr = Field(description="The headline; placeholders such as {usage} allowed")
    body: StrictStr | None = Field(None, description="The text under it; placeholders allowed")
    cta: CtaSpec | None = Field(None, description="The call to action: {label, url}")


def trigger_keys_problem(keys: Collection[str]) -> str | None:
    """What is wrong with which keys a trigger has, if anything.

    `metric` and `threshold` go together; a trigger needs them, or `when`, or all three;
    and it needs a `prompt`, a `signal`, or both.
    """
    if "prompt" not in keys and "signal" not in keys:
        return (
            'missing required key "prompt", or "signal": a trigger shows a prompt, '
            "records a signal, or both"
        )
    has_metric, has_threshold = "metric" in keys, "threshold" in keys
    if has_metric and not has_threshold:
        return 'missing required key "threshold"'
    if has_threshold and not has_metric:
        return 'missing required key "metric"'
    if not has_metric and "when" not in keys:
        return (
            'missing required key "when", or "metric" and "threshold": a trigger fires on a '
            "metric's threshold, on a condition, or on both"
        )
    return None


# For editors, what trigger_keys_problem checks: metric and threshold together (with or
# without when), or when alone; and a prompt, a signal or both.
_TRIGGER_KEYS_SCHEMA: JsonDict = {
    "allOf": [
        {
            "anyOf": [
                {"required": ["metric", "threshold"]},
                {
                    "required": ["when"],
                    "not": {"anyOf": [{"required": ["metric"]}, {"required": ["threshold"]}]},
                },
            ]
        },
        {"anyOf": [{"required": ["prompt"]}, {"required": ["signal"]}]},
    ]
}


class TriggerSpec(_Strict):
    """When an account's usage brings up a prompt."""

    model_config = ConfigDict(json_schema_extra=_TRIGGER_KEYS_SCHEMA)

    id: TriggerId = Field(description="Unique across all rule files, e.g. seats-full")
    metric: Name | None = Field(
        None,
        description="The metric the trigger watches; goes with threshold (both or neither)",
    )
    threshold: Threshold | None = Field(
        None,
        description="N% fires when usage >= N% of the plan's limit (e.g. 80%); a plain "
        "number >= 0 is an absolute usage level that fires whatever the limit; goes with metric",
    )
    when: StrictStr | None = Field(
        None,
        description="A condition over metrics, limit.<metric>, plan and account.<attribute>, "
        'such as "dashboards >= 2 and seats >= 3"; with metric and threshold, both must hold',
    )
    priority: StrictInt = Field(
        0, description="Order of prompts, higher first; breaks ties between thresholds"
    )
    cooldown: Duration = Field(
        "1d",
        description="After a dismissal, hide the prompt from that user this long: 30m, 12h, "
        "3d, 2w; with signal, also the least time between two signals of one account",
    )
    hold_for: Span | None = Field(
        None,
        alias="for",
        description="Fire only once the threshold and condition have held this long without "
        "a break (pending until then): 30m, 12h, 3d, 2w",
    )
    max_impressions: FrequencySpec | None = Field(
        None,
        description="Per user: after the prompt was shown `count` times within `per`, stop "
        "showing it until the oldest of those is older than `per`",
    )
    mode: TriggerMode = Field(
        "live",
        description="shadow: evaluate and count in metrics (nudge_prompts_shadowed_total), "
        "never show and never signal",
    )
    signal: SignalType | None = Field(
        None,
        description="pql: mark the account a product-qualified lead when the trigger fires "
        "(once per cooldown); listed by GET /v1/signals",
    )
    placements: list[StrictStr] | None = Field(
        None, description="Where the prompt may show; absent means every placement"
    )
    plans: list[Name] | None = Field(
        None, description="The plans it fires for; absent means every plan with an upgrade_to"
    )
    prompt: PromptSpec | None = Field(
        None, description="What the frontend shows; a trigger with a signal may have none"
    )
    description: StrictStr | None = Field(None, description="Free text for the rule's readers")

    @model_validator(mode="after")
    def _required_keys(self) -> Self:
        given = [
            key
            for key in ("metric", "threshold", "when", "prompt", "signal")
            if getattr(self, key) is not None
        ]
        problem = trigger_keys_problem(given) or self._needs_prompt()
        if problem is not None:
            # validation_messages.py reports this type as the message alone.
            raise PydanticCustomError("trigger_keys", problem)
        return self

    def _needs_prompt(self) -> str | None:
        if self.prompt is not None:
            return None
        if self.mode == "shadow":
            return (
                '"mode: shadow" needs a prompt: a shadow trigger records no signal, so '
                "without a prompt it would do nothing"
            )
        if self.max_impressions is not None:
            return '"max_impressions" needs a prompt: it counts how often the prompt was shown'
        return None


class RuleFileSpec(_Strict):
    """One rule file. Every section is optional; files merge into one rule set."""

    metrics: dict[Name, MetricSpec] = Field(
        default_factory=dict,
        description="Metric name -> definition; names are defined once across all files",
        json_schema_extra={"default": {}},
    )
    default_plan: Name | None = Field(
        None,
        description="The plan of an account that was never PUT; required exactly once "
        "across all files",
    )
    plans: dict[Name, PlanSpec] = Field(
        default_factory=dict,
        description="Plan name -> limits and upgrade_to; names are defined once across all files",
        json_schema_extra={"default": {}},
    )
    triggers: list[TriggerSpec] = Field(
        default_factory=list,
        description="When usage brings up which prompt; lists from all files are joined",
        json_schema_extra={"default": []},
    )
    caps: dict[CapKey, CapList] = Field(
        default_factory=dict,
        description="Frequency caps across triggers, by style or `any`: "
        "{count, per, scope: user | account}, or a list of them; keys are defined once "
        "across all files",
        json_schema_extra={"default": {}},
    )
