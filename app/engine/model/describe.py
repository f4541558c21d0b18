"""A compiled rule set as plain JSON-ready data (for GET /v1/rules and the CLI)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from app.engine.model.rule_set import Frequency, PromptTemplate, RuleSet, Trigger
from app.engine.model.templating import Template, json_number


def describe_rules(rules: RuleSet) -> dict[str, Any]:
    return {
        "version": rules.version,
        "default_plan": rules.default_plan,
        "metrics": {
            name: {
                "type": m.type,
                "window": m.window,
                "description": m.description,
            }
            for name, m in rules.metrics.items()
        },
        "plans": {
            name: {
                "limits": {metric: json_number(v) for metric, v in p.limits.items()},
                "upgrade_to": p.upgrade_to,
                "description": p.description,
            }
            for name, p in rules.plans.items()
        },
        "triggers": [_trigger(t) for t in rules.triggers],
        "caps": [
            {
                "key": cap.key,
                "count": cap.limit.count,
                "per_seconds": int(cap.limit.per.total_seconds()),
                "scope": cap.scope,
            }
            for cap in rules.caps
        ],
    }


def _trigger(trigger: Trigger) -> dict[str, Any]:
    return {
        "id": trigger.id,
        "metric": trigger.metric,
        "threshold": str(trigger.threshold) if trigger.threshold is not None else None,
        "when": trigger.condition.source if trigger.condition is not None else None,
        "priority": trigger.priority,
        "cooldown_seconds": int(trigger.cooldown.total_seconds()),
        "placements": sorted(trigger.placements) if trigger.placements is not None else None,
        "plans": sorted(trigger.plans) if trigger.plans is not None else None,
        "for_seconds": _seconds(trigger.hold_for),
        "max_impressions": _frequency(trigger.max_impressions),
        "mode": "shadow" if trigger.shadow else "live",
        "signal": trigger.signal,
        "description": trigger.description,
        "prompt": _prompt(trigger.prompt),
    }


def _prompt(prompt: PromptTemplate | None) -> dict[str, Any] | None:
    if prompt is None:
        return None
    return {
        "style": prompt.style,
        "title": prompt.title.source,
        "body": _source(prompt.body),
        "cta": (
            {"label": _source(prompt.cta_label), "url": _source(prompt.cta_url)}
            if prompt.cta_label is not None
            else None
        ),
    }


def _frequency(limit: Frequency | None) -> dict[str, int] | None:
    if limit is None:
        return None
    return {"count": limit.count, "per_seconds": int(limit.per.total_seconds())}


def _seconds(duration: timedelta | None) -> int | None:
    return int(duration.total_seconds()) if duration is not None else None


def _source(template: Template | None) -> str | None:
    return template.source if template is not None else None
