"""`nudge` commands beyond the core ones in app/cli.py, one module each.

Each module has `add_parser(subparsers)`, which adds its command, and
`run(args) -> int`, which runs it and returns the exit code.
"""
