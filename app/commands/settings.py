"""Settings for CLI commands: from the environment, exit 2 naming each bad setting."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from app.settings import Settings, load_settings


def load_cli_settings() -> Settings:
    """Settings from the environment; exit 2 naming each bad setting."""
    try:
        return load_settings()
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            print(f"nudge: setting {error['loc'][0]}: {error['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
