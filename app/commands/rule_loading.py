"""The rules a command works on: loaded, or their errors reported the one way.

Every command that needs the rules (`nudge rules test`, `explain`, `impact`) reports a
rule set that does not load as `nudge rules check` does, on stderr, and says what the
command could not do.
"""

from __future__ import annotations

import sys
from pathlib import Path

from app.engine import RuleSet, load_rules_dir, report_problems


def load_rules_or_report(
    directory: str | Path, *, which: str = "", then: str = "run again"
) -> RuleSet | None:
    """The rule set in `directory`, or None after reporting why it does not load.

    `which` names the rule set where a command takes two ("live ", "proposed ");
    `then` says what to do once the rules are fixed.
    """
    loaded = load_rules_dir(directory)
    if loaded.rules is None:
        print(report_problems(loaded.problems), file=sys.stderr)
        print(
            f"nudge: the {which}rules in {directory} have {len(loaded.problems)} error(s); "
            f"fix them (`nudge rules check {directory}` lists them) and {then}",
            file=sys.stderr,
        )
    return loaded.rules
