"""What the service always refuses, refused here before any I/O, with a message that names
the argument and how to fix it; and the JSON bodies of the calls that wait for an answer."""

from __future__ import annotations

import json
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, get_args
from urllib.parse import quote

from nudge_sdk.models import PromptEventType, UsageEvent, UsageOp

MAX_ABS_VALUE = 1e15  # the service refuses larger values: floats lose whole numbers there
ID_PATTERN = re.compile(r"[A-Za-z0-9._@+-]{1,128}")
ID_RULE = "1-128 characters of A-Z a-z 0-9 . _ @ + -"
METRIC_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
PROMPT_EVENT_TYPES: tuple[str, ...] = get_args(PromptEventType)
# How deep attributes may nest before they are taken for a structure that contains itself.
MAX_DEPTH = 64


def check_id(name: str, value: object) -> str:
    if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
        raise ValueError(f"{name} must be {ID_RULE}, not {value!r}")
    return value


def check_text(name: str, value: object) -> str:
    """`value` if it is a str that can be sent as UTF-8; ValueError naming `name` if not."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a str, not {value!r}")
    problem = _not_unicode(value)
    if problem:
        raise ValueError(f"{name} is not valid Unicode: {problem}")
    return value


def _not_unicode(text: str) -> str | None:
    """Why `text` cannot be encoded as UTF-8 (a lone surrogate), or None."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        at = exc.start
        around = ("..." if at > 24 else "") + repr(text[max(0, at - 24) : at + 24])
        around += "..." if at + 24 < len(text) else ""
        return (
            f"a lone surrogate {text[at]!r} at {at} of {around}; such a str comes from bytes"
            " decoded with errors='surrogateescape' or a broken \\ud800 JSON escape: decode"
            " the bytes as UTF-8, or replace what cannot be (errors='replace')"
        )
    return None


def make_event(  # noqa: PLR0913 track()'s arguments, passed on as they came
    account_id: str,
    metric: str,
    *,
    value: float,
    op: UsageOp,
    event_id: str | None,
    timestamp: datetime | None,
) -> UsageEvent:
    """A usage event stamped with its id and time now, so every resend of it counts once.

    Refuses (ValueError) what the service always refuses. How old or how far ahead the
    timestamp may be is left to the service: its clock decides, not this machine's.
    """
    check_id("account_id", account_id)
    if not isinstance(metric, str) or not METRIC_PATTERN.fullmatch(metric):
        raise ValueError(
            f"metric must be a metric name of the rules ([a-z][a-z0-9_]*), not {metric!r}"
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"value must be an int or a float, not {value!r}")
    # An int is compared as it is: a huge one has no float to be checked as.
    if (isinstance(value, float) and not math.isfinite(value)) or abs(value) > MAX_ABS_VALUE:
        raise ValueError(
            f"value must be a finite number of at most {MAX_ABS_VALUE:.0e} in size, not {value!r}"
        )
    if op not in ("incr", "set"):
        raise ValueError(f'op must be "incr" or "set" (set is for gauges only), not {op!r}')
    if event_id is None:
        event_id = uuid.uuid4().hex
    elif (
        not isinstance(event_id, str)
        or not 1 <= len(event_id) <= 256
        or any(ord(char) < 33 or ord(char) == 127 for char in event_id)
    ):
        raise ValueError(
            "event_id must be 1-256 characters without spaces or control characters, "
            f"not {event_id!r}"
        )
    else:
        check_text("event_id", event_id)
    if timestamp is None:
        timestamp = datetime.now(UTC)
    elif not isinstance(timestamp, datetime) or timestamp.utcoffset() is None:
        raise ValueError(
            "timestamp must be a datetime with a time zone (e.g. datetime.now(UTC)), "
            f"not {timestamp!r}"
        )
    return UsageEvent(event_id, account_id, metric, value, op, timestamp)


def json_bytes(name: str, value: Any) -> bytes:
    """`value` as the UTF-8 JSON the service reads; ValueError naming the part of it that
    has no JSON form (text that is not valid Unicode, NaN, a datetime, ...)."""
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        return text.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(
            _no_json_form(name, value, depth=0) or f"{name} cannot be sent as JSON: {exc}"
        ) from None


def _no_json_form(path: str, value: Any, *, depth: int) -> str | None:
    """What in `value` has no JSON form, named by its path; None if nothing has."""
    if depth > MAX_DEPTH:
        return f"{path} is nested more than {MAX_DEPTH} levels deep (does it contain itself?)"
    if value is None or isinstance(value, bool | int):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{path} must be a finite number, not {value!r}"
    if isinstance(value, str):
        problem = _not_unicode(value)
        return f"{path} is not valid Unicode: {problem}" if problem else None
    if isinstance(value, list | tuple):
        return _no_json_form_in_items(path, value, depth=depth)
    if isinstance(value, dict):
        return _no_json_form_in_mapping(path, value, depth=depth)
    return (
        f"{path} is a {type(value).__name__}, which JSON has no form for; send str, int,"
        " float, bool, None, lists and dicts (a datetime as its .isoformat())"
    )


def _no_json_form_in_items(path: str, items: Sequence[Any], *, depth: int) -> str | None:
    for index, item in enumerate(items):
        problem = _no_json_form(f"{path}[{index}]", item, depth=depth + 1)
        if problem:
            return problem
    return None


def _no_json_form_in_mapping(path: str, mapping: Mapping[Any, Any], *, depth: int) -> str | None:
    for key, item in mapping.items():
        if not isinstance(key, str):
            return f"{path} keys must be strings, not {key!r}"
        if problem := _not_unicode(key):
            return f"{path} has a key that is not valid Unicode: {problem}"
        problem = _no_json_form(f"{path}[{key!r}]", item, depth=depth + 1)
        if problem:
            return problem
    return None


def account_path(account_id: str) -> str:
    return f"/v1/accounts/{quote(check_id('account_id', account_id), safe='')}"


def event_path(prompt_id: str, event_type: str) -> str:
    if not isinstance(prompt_id, str) or not prompt_id:
        raise ValueError(
            f"prompt_id must be the id of a prompt from get_prompts, not {prompt_id!r}"
        )
    check_text("prompt_id", prompt_id)
    if event_type not in PROMPT_EVENT_TYPES:
        raise ValueError(f"type must be one of {', '.join(PROMPT_EVENT_TYPES)}, not {event_type!r}")
    return f"/v1/prompts/{quote(prompt_id, safe='')}/events"


def plan_body(plan: str | None, attributes: Mapping[str, Any] | None) -> bytes:
    """The JSON body of `PUT /v1/accounts/{id}`; ValueError for what cannot be sent."""
    body: dict[str, Any] = {}
    if plan is not None:
        if not isinstance(plan, str):
            raise ValueError(f"plan must be a str or None, not {plan!r}")
        body["plan"] = check_text("plan", plan)
    if attributes is not None:
        if not isinstance(attributes, Mapping):
            raise ValueError(f"attributes must be a dict or None, not {attributes!r}")
        body["attributes"] = dict(attributes)
        problem = _no_json_form("attributes", body["attributes"], depth=0)
        if problem:
            raise ValueError(problem)
    return json_bytes("the account", body)


def prompt_params(account_id: str, *, user_id: str | None, placement: str | None) -> dict[str, str]:
    """The query of `GET /v1/prompts`; ValueError for text that cannot be sent (the
    service judges the rest: ids and the placement's length)."""
    params = {"account_id": check_text("account_id", account_id)}
    if user_id is not None:
        params["user_id"] = check_text("user_id", user_id)
    if placement is not None:
        params["placement"] = check_text("placement", placement)
    return params
