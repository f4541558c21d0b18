"""Turn pydantic's validation errors on a rule file into problems a rule author can act on."""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from app.engine.problems import Problem
from app.engine.rule_files.schema import RuleFileSpec, TriggerSpec, trigger_keys_problem
from app.engine.rule_files.source import DataPath, SourceDocument
from app.engine.vocabulary import ANY_STYLE, PROMPT_STYLES


def describe_validation_error(exc: ValidationError, document: SourceDocument) -> list[Problem]:
    problems = []
    for error in reported_errors(exc, model=RuleFileSpec):
        path = _as_written(tuple(part for part in error["loc"] if part != "[key]"), document)
        message = error_message(error, path)
        if error["loc"][-1:] == ("[key]",) and len(path) == 2 and path[0] in ("metrics", "plans"):
            reason = str(error["msg"]).removeprefix("Value error, ")
            message = f"invalid {str(path[0])[:-1]} name: {reason}"
        if error["loc"][-1:] == ("[key]",) and len(path) == 2 and path[0] == "caps":
            message = (
                f'unknown cap "{path[1]}": caps are keyed by a style '
                f"({', '.join(PROMPT_STYLES)}) or {ANY_STYLE}"
            )
        problems.append(document.problem(path, _context(document, path) + message))
    problems.extend(_trigger_keys_problems(exc, document))
    return problems


def _as_written(path: DataPath, document: SourceDocument) -> DataPath:
    """The path as the file has it: a cap written alone (not in a list) is validated as
    a list of one, so drop the index the file does not have."""
    if len(path) >= 3 and path[0] == "caps" and path[2] == 0:
        caps = document.data.get("caps") if isinstance(document.data, dict) else None
        if isinstance(caps, dict) and isinstance(caps.get(path[1]), dict):
            return path[:2] + path[3:]
    return path


def _trigger_keys_problems(exc: ValidationError, document: SourceDocument) -> list[Problem]:
    """Missing metric, threshold or when, in triggers whose other keys failed validation.

    Pydantic checks a trigger's keys together only once each key is valid; a rule author
    should still see the missing key beside a typo in another one.
    """
    reported = {
        error["loc"][:2]
        for error in exc.errors(include_url=False)
        if error["type"] == "trigger_keys"
    }
    triggers = document.data.get("triggers") if isinstance(document.data, dict) else None
    allowed = list(_fields(TriggerSpec))
    problems = []
    for index, trigger in enumerate(triggers if isinstance(triggers, list) else ()):
        if not isinstance(trigger, dict) or ("triggers", index) in reported:
            continue
        present = [_as_meant(str(key), allowed) for key, v in trigger.items() if v is not None]
        message = trigger_keys_problem(present)
        if message is not None:
            path = ("triggers", index)
            problems.append(document.problem(path, _context(document, path) + message))
    return problems


def reported_errors(exc: ValidationError, *, model: type[BaseModel]) -> list[Any]:
    """pydantic's errors, less a "missing" key whose misspelling is reported beside it
    (`titel:` is one mistake, not also a missing `title`)."""
    errors = exc.errors(include_url=False)
    misspelled: set[DataPath] = set()
    for error in errors:
        if error["type"] == "extra_forbidden":
            path = _path(error)
            hint = difflib.get_close_matches(str(path[-1]), _allowed_keys(path[:-1], model), n=1)
            if hint:
                misspelled.add((*path[:-1], hint[0]))
    return [e for e in errors if not (e["type"] == "missing" and _path(e) in misspelled)]


def _as_meant(key: str, allowed: list[str]) -> str:
    """An unknown key read as the known key it resembles (reported as a typo on its own)."""
    if key in allowed:
        return key
    hint = difflib.get_close_matches(key, allowed, n=1)
    return hint[0] if hint else key


def _path(error: Any) -> DataPath:
    return tuple(part for part in error["loc"] if part != "[key]")


def error_message(error: Any, path: DataPath, *, model: type[BaseModel] = RuleFileSpec) -> str:
    """One pydantic error on the data at `path` (`model` is the file's model) in words."""
    kind = error["type"]
    key = str(path[-1]) if path else "file"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(path[:-1], model)
        hint = difflib.get_close_matches(key, allowed, n=1)
        suggestion = f'; did you mean "{hint[0]}"?' if hint else ""
        return f'unknown key "{key}"{suggestion} (allowed here: {", ".join(allowed)})'
    if kind == "trigger_keys":
        return str(error["msg"])
    if kind == "missing":
        return f'missing required key "{key}"'
    if kind == "model_type":
        form = _MAPPING_FORMS.get(key, "key: value pairs")
        return f'"{key}": expected a mapping such as {form}, got {error["input"]!r}'
    text = str(error["msg"]).removeprefix("Value error, ")
    if kind == "value_error":
        return f'"{key}": {text}'
    return f'"{key}": {text[0].lower()}{text[1:]}, got {error["input"]!r}'


# How to write the mappings of the format, for "expected a mapping" errors.
_MAPPING_FORMS = {
    "max_impressions": "{count: 3, per: 7d}",
    "prompt": '{style: banner, title: "..."}',
    "cta": '{label: "Upgrade", url: "/billing/upgrade"}',
}


def _context(document: SourceDocument, path: DataPath) -> str:
    """Name the metric, plan or trigger a problem is about."""
    if len(path) < 2:
        return ""
    section, item = path[0], path[1]
    if section == "triggers" and isinstance(item, int):
        triggers = document.data.get("triggers") if isinstance(document.data, dict) else None
        entry = triggers[item] if isinstance(triggers, list) and item < len(triggers) else None
        trigger_id = entry.get("id") if isinstance(entry, dict) else None
        return (
            f'trigger "{trigger_id}": ' if isinstance(trigger_id, str) else f"trigger #{item + 1}: "
        )
    if section in ("metrics", "plans", "caps") and len(path) > 2:
        return f'{section[:-1]} "{item}": '
    return ""


def _allowed_keys(path: DataPath, model: type[BaseModel]) -> list[str]:
    """The keys the model at `path` accepts, found by walking the file's model."""
    current: Any = model
    for part in path:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = _fields(current).get(str(part))
            if field is None:
                return []
            current = field.annotation
        else:
            args = typing.get_args(current)
            current = args[-1] if args else None  # list[X] -> X, dict[K, V] -> V
    current = _unwrap(current)
    if typing.get_origin(current) is list:  # a cap written alone is read as a list of one
        current = _unwrap(typing.get_args(current)[0])
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(_fields(current))
    return []


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    """The model's fields by the key written in files (`for`, not `hold_for`)."""
    return {field.alias or name: field for name, field in model.model_fields.items()}


def _unwrap(annotation: Any) -> Any:
    """Strip Optional and Annotated wrappers."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            annotation = members[0]
        else:
            return annotation
