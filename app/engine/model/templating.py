"""Prompt text with {placeholders}, parsed once at load time and rendered per request."""

from __future__ import annotations

import math
import string
from collections.abc import Mapping
from dataclasses import dataclass

PLACEHOLDERS = (
    "usage",
    "limit",
    "remaining",
    "percent",
    "metric",
    "plan",
    "upgrade_plan",
    "upgrade_limit",
)
# The placeholders that describe a trigger's metric: a trigger with only `when:` has none.
METRIC_PLACEHOLDERS = frozenset(
    {"usage", "limit", "remaining", "percent", "metric", "upgrade_limit"}
)
UNLIMITED = "unlimited"


@dataclass(frozen=True, slots=True)
class Template:
    source: str
    # Literal text and placeholder names alternate: (text, name, text, name, ..., text).
    parts: tuple[str, ...]

    def render(self, values: Mapping[str, str]) -> str:
        out = []
        for index, part in enumerate(self.parts):
            out.append(values[part] if index % 2 else part)
        return "".join(out)


def compile_template(source: str) -> Template:
    """Parse `source`; raise ValueError naming the first unknown or malformed placeholder."""
    try:
        pieces = list(string.Formatter().parse(source))
    except ValueError as exc:
        raise ValueError(f"{exc} in {source!r}; write {{{{ and }}}} for literal braces") from None
    parts: list[str] = []
    pending = ""
    for literal, name, spec, conversion in pieces:
        pending += literal
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise ValueError(
                f'unknown placeholder "{{{name}}}"; known placeholders are '
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            )
        if spec or conversion:
            raise ValueError(f'placeholder "{{{name}}}" takes no format; write {{{name}}}')
        parts.extend((pending, name))
        pending = ""
    parts.append(pending)
    return Template(source=source, parts=tuple(parts))


def json_number(value: float | None) -> int | float | None:
    """3.0 -> 3: whole numbers read as integers in JSON."""
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def format_number(value: float | None) -> str:
    """Render a usage or limit as people write it: 3, 2.5, unlimited."""
    if value is None:
        return UNLIMITED
    if float(value).is_integer():
        return str(int(value))
    return format(value, ".15g")


def placeholder_values(  # noqa: PLR0913 a keyword per input of the placeholders
    *,
    usage: float,
    limit: float | None,
    metric: str,
    plan: str,
    upgrade_plan: str | None,
    upgrade_limit: float | None,
) -> dict[str, str]:
    """The text each placeholder renders to for one account and metric."""
    remaining = None if limit is None else max(limit - usage, 0)
    percent = 0
    if limit is not None and limit > 0:
        percent = math.floor(usage * 100 / limit)
    elif limit == 0 and usage > 0:
        percent = 100  # over a zero limit: "100%" reads truer than a division by zero
    return {
        "usage": format_number(usage),
        "limit": format_number(limit),
        "remaining": format_number(remaining),
        "percent": str(percent),
        "metric": metric,
        **plan_placeholder_values(plan=plan, upgrade_plan=upgrade_plan),
        "upgrade_limit": format_number(upgrade_limit),
    }


def plan_placeholder_values(*, plan: str, upgrade_plan: str | None) -> dict[str, str]:
    """The placeholders that need no metric, for a trigger with only a condition."""
    return {"plan": plan, "upgrade_plan": upgrade_plan or ""}
