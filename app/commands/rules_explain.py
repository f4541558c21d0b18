"""`nudge rules explain ACCOUNT [--user U] [--placement P]`: why each trigger shows, or not.

Reads the account from the store (REDIS_URL, or the embedded Redis of a running
`nudge serve` with the same NUDGE_DATA_DIR) and the rules from NUDGE_RULES_DIR, and
prints what GET /v1/prompts would answer for that account's user now, trigger by
trigger, with the reason in words. Exit codes: 0 explained; 1 the rules do not load;
2 bad arguments or settings, or the store cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from app.api.schemas.explain import ExplainOut
from app.clock import utc_now
from app.commands.rule_loading import load_rules_or_report
from app.commands.settings import load_cli_settings
from app.commands.store_access import (
    NoStore,
    StoreAddress,
    open_states,
    store_address,
)
from app.engine import RuleSet, format_number
from app.errors import StoreUnavailable
from app.identifiers import ID_RULE, is_valid_id
from app.services.explain import ExplainService
from app.services.rule_registry import FixedRules, LiveRules

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]

MAX_PLACEMENT = 64  # as GET /v1/prompts takes it

# One mark per trigger line: shown, held back by this user's own history (dismissal,
# impressions, caps), shadow mode, a signal-only trigger firing, and not shown.
SHOWN, HELD_BACK, SHADOW, SIGNAL, NOT_SHOWN = "✓", "◐", "~", "⚑", "·"
_MARKS = {
    "shown": SHOWN,
    "cooldown": HELD_BACK,
    "max_impressions": HELD_BACK,
    "capped": HELD_BACK,
    "shadow": SHADOW,
    "signal": SIGNAL,
}


def add_parser(subparsers: SubParsers) -> None:
    """Add `explain` to the `nudge rules` subcommands."""
    explain = subparsers.add_parser(
        "explain",
        help="list every trigger for an account's user: shown or not, and why",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    explain.add_argument("account", metavar="ACCOUNT", help="the account id")
    explain.add_argument(
        "--user", metavar="U", help="the user asking (default: the account's anonymous user)"
    )
    explain.add_argument(
        "--placement", metavar="P", help="where the prompt would show (default: no placement)"
    )
    explain.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: one line per trigger, for people (default); json: the API's document",
    )
    explain.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    problem = _argument_problem(args)
    if problem is not None:
        print(f"nudge: {problem}", file=sys.stderr)
        return 2
    settings = load_cli_settings()
    rules_dir = str(settings.rules_dir)
    rules = load_rules_or_report(rules_dir)
    if rules is None:
        return 1
    try:
        address = store_address(settings)
        explained = asyncio.run(
            _explain(
                address,
                rules,
                account_id=args.account,
                user_id=args.user,
                placement=args.placement,
            )
        )
    except (NoStore, StoreUnavailable) as exc:
        print(f"nudge: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(explained, indent=2, ensure_ascii=False))
    else:
        print(render_text(explained, rules, rules_dir=rules_dir))
    return 0


def _argument_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the arguments, as GET .../explain would refuse it; None if fine."""
    if not is_valid_id(args.account):
        return f"ACCOUNT {json.dumps(args.account)}: an account id is {ID_RULE}"
    if args.user is not None and not is_valid_id(args.user):
        return f"--user {json.dumps(args.user)}: a user id is {ID_RULE}"
    if args.placement is not None and not 1 <= len(args.placement) <= MAX_PLACEMENT:
        return f"--placement: a placement is 1-{MAX_PLACEMENT} characters"
    return None


async def _explain(
    address: StoreAddress,
    rules: RuleSet,
    *,
    account_id: str,
    user_id: str | None,
    placement: str | None,
) -> dict[str, Any]:
    """What GET /v1/accounts/{id}/explain answers, as JSON data, with the rules on disk."""
    async with open_states(address) as states:
        explainer = ExplainService(
            states, FixedRules(LiveRules(rules, loaded_at=utc_now())), clock=utc_now
        )
        explanation = await explainer.explain(account_id, user_id=user_id, placement=placement)
    explained: dict[str, Any] = ExplainOut.of(explanation).model_dump(mode="json")
    return explained


def render_text(explained: dict[str, Any], rules: RuleSet, *, rules_dir: str) -> str:
    """The explanation for people: a header, the usage, one line per trigger, the answer."""
    plan = rules.plans.get(explained["plan"])
    if plan is None:
        plan_note = " (not in the rules)"
    elif explained["plan_is_default"]:
        plan_note = " (the rules' default_plan: the account was never PUT)"
    else:
        plan_note = ""
    at = datetime.fromisoformat(explained["at"])
    usage = ", ".join(
        f"{metric} {format_number(value)}"
        + (f" of {format_number(plan.limit(metric))}" if plan is not None else "")
        for metric, value in explained["usage"].items()
    )
    lines = [
        f"account:   {explained['account_id']}",
        f"plan:      {explained['plan']}{plan_note}",
        f"user:      {explained['user_id'] or '(anonymous)'}",
        f"placement: {explained['placement'] or '(none)'}",
        f"rules:     {rules_dir} (version {explained['rules_version']})",
        f"at:        {at.strftime('%Y-%m-%d %H:%M:%S UTC')}",
        f"usage:     {usage or '(the rules define no metric)'}",
        "",
    ]
    width = max((len(t["trigger"]) for t in explained["triggers"]), default=0)
    for decided in explained["triggers"]:
        line = f"{_MARKS.get(decided['outcome'], NOT_SHOWN)} {decided['trigger'].ljust(width)}  "
        line += decided["reason"]
        trigger = rules.by_id[decided["trigger"]]
        if decided["signal"] and decided["outcome"] != "signal":
            line += f" ({SIGNAL} its {trigger.signal} signal fires)"
        lines.append(line)
    if not explained["triggers"]:
        lines.append("(the rules have no trigger)")
    lines += [
        "",
        f"prompts: {', '.join(explained['prompts']) or 'none'}",
        f"signals: {', '.join(explained['signals']) or 'none'}",
    ]
    return "\n".join(lines)
