"""The rule set as JSON-ready data, as GET /v1/rules and the CLI show it."""

from __future__ import annotations

import json

from app.engine.model.describe import describe_rules
from tests.support.rule_sets import SPEC_CORE, rules_from


def test_described_rules_read_as_the_files_wrote_them() -> None:
    described = describe_rules(rules_from(SPEC_CORE))
    assert json.loads(json.dumps(described)) == described
    assert described["default_plan"] == "free"
    assert described["metrics"]["api_calls"] == {
        "type": "counter",
        "window": "month",
        "description": None,
    }
    assert described["plans"]["free"]["limits"]["seats"] == 3
    assert described["plans"]["business"] == {"limits": {}, "upgrade_to": None, "description": None}
    full, almost = described["triggers"]
    assert (full["id"], full["threshold"], full["cooldown_seconds"]) == (
        "seats-full",
        "100%",
        86400,
    )
    assert almost["threshold"] == "80%"
    assert almost["cooldown_seconds"] == 3 * 86400
    assert almost["placements"] == ["global", "members"]
    assert almost["prompt"]["title"] == "{usage} of {limit} seats used"
    assert almost["prompt"]["cta"] == {
        "label": "Upgrade to {upgrade_plan}",
        "url": "/billing/upgrade?plan={upgrade_plan}",
    }
