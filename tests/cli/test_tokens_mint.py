"""`nudge tokens mint`: a client token the service accepts, and never one it would refuse."""

from __future__ import annotations

from datetime import UTC, datetime

import jwt

from tests.conftest import SIGNING_SECRET
from tests.support.nudge_cli import run_nudge

ENV = {"NUDGE_SIGNING_SECRET": SIGNING_SECRET}


def test_a_minted_token_names_the_account_user_and_expiry() -> None:
    result = run_nudge("tokens", "mint", "acme", "--user", "ana", "--ttl", "30m", env=ENV)

    assert result.returncode == 0, result.stderr
    claims = jwt.decode(result.stdout.strip(), SIGNING_SECRET, algorithms=["HS256"])
    assert (claims["account_id"], claims["sub"]) == ("acme", "ana")
    assert 29 * 60 < claims["exp"] - datetime.now(UTC).timestamp() <= 30 * 60


def test_a_lifetime_over_the_services_maximum_is_refused_before_minting() -> None:
    result = run_nudge("tokens", "mint", "acme", "--ttl", "2d", env=ENV)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "--ttl 2d is longer than NUDGE_CLIENT_TOKEN_MAX_TTL (1d)" in result.stderr


def test_the_maximum_follows_the_setting() -> None:
    result = run_nudge(
        "tokens", "mint", "acme", "--ttl", "2d", env={**ENV, "NUDGE_CLIENT_TOKEN_MAX_TTL": "7d"}
    )

    assert result.returncode == 0, result.stderr
