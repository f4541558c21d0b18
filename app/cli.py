"""`nudge ...`: serve the API; check, test, explain and weigh the impact of rule files;
migrate the database; mint client tokens.

Exit codes: 0 ok, 1 invalid rules (or another failed check), 2 bad usage or settings.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from app.commands import rules_explain, rules_impact, rules_test
from app.commands.settings import load_cli_settings
from app.engine import (
    LoadResult,
    format_duration,
    load_rules_dir,
    parse_duration,
    rule_file_schema_json,
    rule_tests_schema_json,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    return int(args.run(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nudge", description=__doc__)
    commands = parser.add_subparsers(metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="comma-separated addresses of reverse proxies whose X-Forwarded-For names the "
        "client (default: FORWARDED_ALLOW_IPS, else none: the client is the connection's peer)",
    )
    serve.set_defaults(run=_serve)

    rules = commands.add_parser("rules", help="work with rule files").add_subparsers(
        metavar="ACTION"
    )
    check = rules.add_parser(
        "check",
        help="validate a rules directory; exit 1 on any error (warnings only with --strict)",
    )
    check.add_argument("dir", nargs="?", help="rules directory (default: NUDGE_RULES_DIR or rules)")
    check.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    check.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text: one problem a line (default); json: one document on stdout, for CI",
    )
    check.set_defaults(run=_rules_check)
    rules_test.add_parser(rules)
    schema = rules.add_parser("schema", help="print the JSON Schema of a rule file, for editors")
    schema.add_argument("--output", metavar="FILE", help="write it to FILE instead of stdout")
    schema.add_argument(
        "--tests", action="store_true", help="the schema of rule-test files (rules/tests/*.yaml)"
    )
    schema.set_defaults(run=_rules_schema)
    rules_explain.add_parser(rules)
    rules_impact.add_parser(rules)

    db = commands.add_parser("db", help="database migrations").add_subparsers(metavar="ACTION")
    upgrade = db.add_parser("upgrade", help="migrate DATABASE_URL up (default: to the latest)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(run=_db_upgrade)
    downgrade = db.add_parser("downgrade", help="migrate DATABASE_URL down to a revision")
    downgrade.add_argument("revision", help='target revision, e.g. "0001" or "base"')
    downgrade.set_defaults(run=_db_downgrade)
    current = db.add_parser("current", help="print the database's migration revision")
    current.set_defaults(run=_db_current)

    tokens = commands.add_parser("tokens", help="client tokens").add_subparsers(metavar="ACTION")
    mint = tokens.add_parser("mint", help="mint a client token with NUDGE_SIGNING_SECRET")
    mint.add_argument("account_id")
    mint.add_argument("--user", dest="user_id", help="the user id (the token's sub)")
    mint.add_argument("--ttl", default="1h", help="lifetime such as 30m, 12h (default 1h)")
    mint.set_defaults(run=_tokens_mint)
    return parser


def _rules_check(args: argparse.Namespace) -> int:
    directory = args.dir or str(load_cli_settings().rules_dir)
    result = load_rules_dir(directory)
    rules = result.rules
    failed = rules is None or (args.strict and bool(result.warnings))
    if args.format == "json":
        print(json.dumps(_check_report(result, ok=not failed), indent=2))
        return 1 if failed else 0
    for problem in (*result.problems, *result.warnings):
        print(problem.report())
    count = len(result.warnings)
    warned = f"{count} warning" + ("" if count == 1 else "s")
    if rules is None:
        print(f"{len(result.problems)} error(s) in {directory}", file=sys.stderr)
        return 1
    if failed:
        print(f"{warned} in {directory}; --strict fails on warnings", file=sys.stderr)
        return 1
    summary = (
        f"{directory}: ok: {len(rules.metrics)} metrics, {len(rules.plans)} plans, "
        f"{len(rules.triggers)} triggers (version {rules.version})"
    )
    print(summary + (f", {warned}" if result.warnings else ""))
    return 0


def _check_report(result: LoadResult, *, ok: bool) -> dict[str, object]:
    """`nudge rules check --format json`: every problem located, for CI annotations."""
    rules = result.rules
    return {
        "ok": ok,
        "version": rules.version if rules else None,
        "errors": [problem.as_json() for problem in result.problems],
        "warnings": [problem.as_json() for problem in result.warnings],
        "summary": {
            "errors": len(result.problems),
            "warnings": len(result.warnings),
            "metrics": len(rules.metrics) if rules else None,
            "plans": len(rules.plans) if rules else None,
            "triggers": len(rules.triggers) if rules else None,
        },
    }


def _rules_schema(args: argparse.Namespace) -> int:
    text = rule_tests_schema_json() if args.tests else rule_file_schema_json()
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        with open(args.output, "w", encoding="utf-8") as output:
            output.write(text)
    except OSError as exc:
        print(f"nudge: --output: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 2
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app
    from app.server_protocol import bounded_protocol

    settings = load_cli_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(levelname)s:     %(name)s: %(message)s"
    )
    base_url = f"http://{args.host}:{args.port}"
    print(f"Nudge starting on {base_url} with the rules in {settings.rules_dir}", flush=True)
    app = create_app(settings, base_url=base_url)
    forwarded = args.forwarded_allow_ips or os.environ.get("FORWARDED_ALLOW_IPS")
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_level=settings.log_level,
            http=bounded_protocol(header_timeout_seconds=settings.header_timeout_seconds),
            # The client address (what NUDGE_AUTH_FAILURE_LIMIT counts by) is the
            # connection's peer unless the proxies whose X-Forwarded-For to believe are named.
            proxy_headers=bool(forwarded),
            forwarded_allow_ips=forwarded or None,
        )
    except SystemExit:
        refused = app.state.startup_error  # reported by the app as it refused to start
        if refused is not None:
            return int(refused.exit_code)
        raise
    return 0


def _engine() -> Engine:
    from app.store.database import create_database_engine

    return create_database_engine(load_cli_settings().database_url)


def _db_upgrade(args: argparse.Namespace) -> int:
    from app.store import database

    engine = _engine()
    database.upgrade(engine, args.revision)
    print(f"database at {database.current_revision(engine)}")
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    from app.store import database

    engine = _engine()
    database.downgrade(engine, args.revision)
    print(f"database at {database.current_revision(engine) or 'base'}")
    return 0


def _db_current(_args: argparse.Namespace) -> int:
    from app.store import database

    engine = _engine()
    print(
        f"{database.current_revision(engine) or 'base'} (latest: {database.head_revision(engine)})"
    )
    return 0


def _tokens_mint(args: argparse.Namespace) -> int:
    from app.services.client_tokens import mint_client_token

    settings = load_cli_settings()
    if settings.signing_secret is None:
        print("nudge: set NUDGE_SIGNING_SECRET to the service's signing secret", file=sys.stderr)
        return 2
    try:
        ttl: timedelta = parse_duration(args.ttl)
    except ValueError as exc:
        print(f"nudge: --ttl: {exc}", file=sys.stderr)
        return 2
    longest = settings.client_token_max_ttl
    if longest is not None and ttl > longest:
        print(
            f"nudge: --ttl {args.ttl} is longer than NUDGE_CLIENT_TOKEN_MAX_TTL "
            f"({format_duration(longest)}): the service would refuse the token",
            file=sys.stderr,
        )
        return 2
    print(
        mint_client_token(
            args.account_id,
            args.user_id,
            secret=settings.signing_secret.get_secret_value(),
            now=datetime.now(UTC),
            ttl=ttl,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
