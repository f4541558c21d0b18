"""GET /v1/accounts/{id}/explain: every trigger for an account's user, shown or not, and why.

State is written as the host product would (PUT the account, POST usage, report prompt
events), then explained; the explanation is checked against GET /v1/prompts too.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.services.client_tokens import mint_client_token
from tests.conftest import SIGNING_SECRET, NudgeFactory
from tests.support.clock import FakeClock
from tests.support.redis_server import RedisServer
from tests.support.rule_sets import rule_set

# The rules of these tests, apart from the shipped examples so that those can change:
# the core example of the product contract, and a plan with no limit on API calls.
CORE_RULES = rule_set("explain_core.yaml")
# Their display order: priority (higher first), then id.
DISPLAY_ORDER = ["api-calls-capped", "seats-full", "api-calls-high", "seats-almost-full"]
OUTRANKED_BY_SEATS_FULL = (
    "shadowed by seats-full, which also fires on seats "
    "(one prompt per metric: highest threshold, then priority, then id)"
)


async def put_plan(client: httpx.AsyncClient, account_id: str, plan: str) -> None:
    answer = await client.put(f"/v1/accounts/{account_id}", json={"plan": plan})
    assert answer.status_code == 200, answer.text


async def use(client: httpx.AsyncClient, account_id: str, **levels: float) -> None:
    """Set gauges to a level; counters (api_calls) are incremented by the value."""
    events = [
        {
            "id": f"{metric}-{uuid.uuid4().hex}",
            "account_id": account_id,
            "metric": metric,
            "value": value,
            "op": "incr" if metric == "api_calls" else "set",
        }
        for metric, value in levels.items()
    ]
    answer = await client.post("/v1/usage", json={"events": events})
    assert answer.status_code == 202, answer.text


async def prompts(
    client: httpx.AsyncClient, account_id: str, **params: str
) -> list[dict[str, Any]]:
    answer = await client.get("/v1/prompts", params={"account_id": account_id, **params})
    assert answer.status_code == 200, answer.text
    found: list[dict[str, Any]] = answer.json()["prompts"]
    return found


async def report(client: httpx.AsyncClient, prompt: dict[str, Any], event: str) -> None:
    answer = await client.post(f"/v1/prompts/{prompt['id']}/events", json={"type": event})
    assert answer.status_code == 202, answer.text


async def explain(client: httpx.AsyncClient, account_id: str, **params: str) -> dict[str, Any]:
    answer = await client.get(f"/v1/accounts/{account_id}/explain", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    # what it says is shown is what GET /v1/prompts returns, in the same order
    shown = [p["trigger"] for p in await prompts(client, account_id, **params)]
    assert body["prompts"] == shown
    return body


def decided(body: dict[str, Any], trigger: str) -> dict[str, Any]:
    """The entry of one trigger, without its id."""
    [entry] = [t for t in body["triggers"] if t["trigger"] == trigger]
    return {k: v for k, v in entry.items() if k != "trigger"}


def reasons(body: dict[str, Any]) -> dict[str, str]:
    return {t["trigger"]: t["reason"] for t in body["triggers"]}


def minute(moment: datetime) -> str:
    """A time as reasons write it."""
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def add_rules(rules_dir: Path, name: str, text: str) -> None:
    (rules_dir / name).write_text(text, encoding="utf-8")


def assert_error(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    error: dict[str, Any] = answer.json()["error"]
    assert error["code"] == code
    return error


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    """The rules the app of each test loads (overrides the copy of the shipped examples)."""
    directory = tmp_path / "explain-rules"
    directory.mkdir()
    add_rules(directory, "core.yaml", CORE_RULES)
    return directory


@pytest.fixture
async def anonymous(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the same running app that sends no Authorization header."""
    transport = httpx.ASGITransport(app=client.app)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(transport=transport, base_url="http://nudge.test") as http:
        yield http


# --- thresholds, plans, placements ----------------------------------------------------


async def test_below_threshold_names_the_numbers(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await put_plan(client, "acme", "free")
    await use(client, "acme", seats=2)
    version = (await client.get("/v1/rules")).json()["version"]

    body = await explain(client, "acme")

    assert {k: v for k, v in body.items() if k != "triggers"} == {
        "account_id": "acme",
        "plan": "free",
        "plan_is_default": False,
        "rules_version": version,
        "at": clock.now.isoformat().replace("+00:00", "Z"),
        "user_id": None,
        "placement": None,
        "usage": {"seats": 2, "dashboards": 0, "api_calls": 0},
        "prompts": [],
        "signals": [],
    }
    assert [t["trigger"] for t in body["triggers"]] == DISPLAY_ORDER
    assert decided(body, "seats-almost-full") == {
        "outcome": "below_threshold",
        "fires": False,
        "signal": False,
        "reason": "below threshold: 2 of 3 seats = 67% < 80%",
    }
    assert reasons(body)["seats-full"] == "below threshold: 2 of 3 seats = 67% < 100%"
    assert reasons(body)["api-calls-capped"] == (
        "below threshold: 0 of 10000 api_calls = 0% < 100%"
    )


async def test_full_beats_almost_full(client: httpx.AsyncClient) -> None:
    await put_plan(client, "acme", "free")
    await use(client, "acme", seats=3)

    body = await explain(client, "acme", user_id="ana")

    assert body["prompts"] == ["seats-full"]
    assert body["user_id"] == "ana"
    assert decided(body, "seats-full") == {
        "outcome": "shown",
        "fires": True,
        "signal": False,
        "reason": "shown: 3 of 3 seats = 100% >= 100%",
    }
    assert decided(body, "seats-almost-full") == {
        "outcome": "outranked",
        "fires": False,
        "signal": False,
        "reason": OUTRANKED_BY_SEATS_FULL,
    }


async def test_an_account_never_put_is_explained_on_the_default_plan(
    client: httpx.AsyncClient,
) -> None:
    await use(client, "newcomer", seats=3)

    body = await explain(client, "newcomer")

    assert (body["plan"], body["plan_is_default"], body["prompts"]) == (
        "free",
        True,
        ["seats-full"],
    )


async def test_a_plan_without_a_limit_on_the_metric(client: httpx.AsyncClient) -> None:
    await put_plan(client, "acme", "starter")
    await use(client, "acme", seats=1, api_calls=40000)

    body = await explain(client, "acme")

    assert body["usage"] == {"seats": 1, "dashboards": 0, "api_calls": 40000}
    assert decided(body, "api-calls-capped") == {
        "outcome": "no_limit",
        "fires": False,
        "signal": False,
        "reason": "plan starter has no limit on api_calls, so a percentage threshold cannot fire",
    }
    assert reasons(body)["seats-almost-full"] == "below threshold: 1 of 2 seats = 50% < 80%"


async def test_the_top_plan_has_no_upgrade_to(client: httpx.AsyncClient) -> None:
    await put_plan(client, "bigco", "business")
    await use(client, "bigco", seats=5000, api_calls=10**7)

    body = await explain(client, "bigco")

    assert body["prompts"] == []
    assert body["usage"]["api_calls"] == 10**7
    assert set(reasons(body).values()) == {
        "plan business has no upgrade_to, and the trigger lists no plans "
        "(add `plans: [...]` to fire on it anyway)"
    }
    assert {t["outcome"] for t in body["triggers"]} == {"no_upgrade"}


async def test_a_placement_the_trigger_does_not_show_in(client: httpx.AsyncClient) -> None:
    await put_plan(client, "acme", "team")
    await use(client, "acme", seats=20)

    body = await explain(client, "acme", placement="api")

    assert body["placement"] == "api"
    assert body["prompts"] == []
    assert decided(body, "seats-almost-full") == {
        "outcome": "placement",
        "fires": False,
        "signal": False,
        "reason": "placement mismatch: shows in global, members, not in api",
    }
    # and in a placement it shows in
    shown = await explain(client, "acme", placement="members")
    assert reasons(shown)["seats-almost-full"] == "shown: 20 of 25 seats = 80% >= 80%"


async def test_a_plan_that_left_the_rules(client: httpx.AsyncClient, rules_dir: Path) -> None:
    extra = rules_dir / "legacy.yaml"
    extra.write_text("plans:\n  legacy:\n    limits: {seats: 2}\n    upgrade_to: team\n")
    assert (await client.post("/v1/rules/reload")).status_code == 200
    await put_plan(client, "acme", "legacy")
    await use(client, "acme", seats=2)
    extra.unlink()
    assert (await client.post("/v1/rules/reload")).status_code == 200

    body = await explain(client, "acme")

    assert (body["plan"], body["plan_is_default"], body["prompts"]) == ("legacy", False, [])
    assert decided(body, "seats-full") == {
        "outcome": "unknown_plan",
        "fires": False,
        "signal": False,
        "reason": 'the account\'s plan "legacy" is not in the rules; it gets no prompts '
        "until it is PUT with a plan the rules have",
    }


# --- this user's history: dismissals, impressions, caps --------------------------------


async def test_a_dismissal_puts_the_trigger_in_cooldown_for_that_user_only(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await put_plan(client, "acme", "team")
    await use(client, "acme", seats=20)
    [almost] = await prompts(client, "acme", user_id="ana")
    dismissed_at = clock.now
    await report(client, almost, "dismissed")
    clock.advance(hours=5)

    body = await explain(client, "acme", user_id="ana")

    assert body["prompts"] == []
    assert decided(body, "seats-almost-full") == {
        "outcome": "cooldown",
        "fires": True,
        "signal": False,
        "reason": f"cooldown until {minute(dismissed_at + timedelta(days=3))}: "
        f"dismissed at {minute(dismissed_at)} (cooldown 3d)",
    }
    # another user was not the one who dismissed it
    assert (await explain(client, "acme", user_id="bob"))["prompts"] == ["seats-almost-full"]
    # and after the cooldown it shows again
    clock.advance(days=3)
    assert (await explain(client, "acme", user_id="ana"))["prompts"] == ["seats-almost-full"]


HISTORY_RULES = """\
caps:
  modal: {count: 1, per: 1d}
triggers:
  - id: dashboards-tip
    metric: dashboards
    threshold: 1
    max_impressions: {count: 2, per: 7d}
    prompt: {style: toast, title: "Dashboards on {upgrade_plan}"}
"""


async def test_max_impressions_after_shown_events(
    nudge_app: NudgeFactory, rules_dir: Path, clock: FakeClock
) -> None:
    add_rules(rules_dir, "history.extra.yaml", HISTORY_RULES)
    async with nudge_app() as client:
        await put_plan(client, "acme", "free")
        await use(client, "acme", dashboards=1)
        first_shown = clock.now
        for _ in range(2):
            [tip] = await prompts(client, "acme", user_id="ana")
            await report(client, tip, "shown")
            await report(client, tip, "shown")  # the same prompt shown twice counts once
            clock.advance(hours=1)

        body = await explain(client, "acme", user_id="ana")
        other_user = await explain(client, "acme", user_id="bob")

    assert body["prompts"] == []
    assert decided(body, "dashboards-tip") == {
        "outcome": "max_impressions",
        "fires": True,
        "signal": False,
        "reason": "max impressions: shown 2 times in the last 7d (at most 2); shows again "
        f"after {minute(first_shown + timedelta(days=7))}",
    }
    assert other_user["prompts"] == ["dashboards-tip"]


async def test_a_cap_after_a_shown_event_and_within_one_answer(
    nudge_app: NudgeFactory, rules_dir: Path
) -> None:
    add_rules(rules_dir, "history.extra.yaml", HISTORY_RULES)
    async with nudge_app() as client:
        await put_plan(client, "acme", "free")
        await use(client, "acme", seats=3, api_calls=10000)

        # two modals fire; the cap lets one through in an answer
        before = await explain(client, "acme", user_id="ana")
        capped_reason = (
            "capped by modal: 1 per 1d per user: 0 shown in the last 1d, "
            "and this answer already has api-calls-capped"
        )
        assert before["prompts"] == ["api-calls-capped"]
        assert decided(before, "seats-full") == {
            "outcome": "capped",
            "fires": True,
            "signal": False,
            "reason": capped_reason,
        }

        [capped] = await prompts(client, "acme", user_id="ana")
        await report(client, capped, "shown")
        after = await explain(client, "acme", user_id="ana")

    assert after["prompts"] == []
    now_capped = "capped by modal: 1 per 1d per user: 1 shown in the last 1d"
    assert {t: reasons(after)[t] for t in ("api-calls-capped", "seats-full")} == {
        "api-calls-capped": now_capped,
        "seats-full": now_capped,
    }
    assert decided(after, "api-calls-high")["outcome"] == "outranked"


# --- for:, shadow mode, signals --------------------------------------------------------

HELD_RULES = """\
triggers:
  - id: dashboards-busy
    metric: dashboards
    threshold: 2
    for: 1h
    priority: 1
    prompt: {style: toast, title: "Busy with dashboards"}
  - id: seats-shadow
    metric: seats
    threshold: 50%
    mode: shadow
    prompt: {style: banner, title: "Trying a new banner"}
  - id: seats-pql
    metric: seats
    threshold: 100%
    signal: pql
"""


@pytest.fixture
async def held(nudge_app: NudgeFactory, rules_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    add_rules(rules_dir, "held.yaml", HELD_RULES)
    async with nudge_app() as client:
        yield client


async def test_a_for_trigger_is_pending_then_fires(
    held: httpx.AsyncClient, clock: FakeClock
) -> None:
    await put_plan(held, "acme", "free")
    started = clock.now
    await use(held, "acme", dashboards=2)
    clock.advance(minutes=20)

    pending = await explain(held, "acme")

    assert decided(pending, "dashboards-busy") == {
        "outcome": "pending",
        "fires": False,
        "signal": False,
        "reason": f"pending since {minute(started)}: fires at "
        f"{minute(started + timedelta(hours=1))} if it still holds (for: 1h)",
    }
    clock.advance(minutes=40)
    firing = await explain(held, "acme")
    assert firing["prompts"] == ["dashboards-busy"]
    assert reasons(firing)["dashboards-busy"] == (
        f"shown: dashboards at 2 >= 2; held since {minute(started)}"
    )


async def test_shadow_mode_would_show_and_is_never_returned(held: httpx.AsyncClient) -> None:
    await put_plan(held, "acme", "free")
    await use(held, "acme", seats=2)

    body = await explain(held, "acme")

    assert body["prompts"] == []
    assert decided(body, "seats-shadow") == {
        "outcome": "shadow",
        "fires": True,
        "signal": False,
        "reason": "shadow mode: would be shown (2 of 3 seats = 67% >= 50%), "
        "counted in metrics only",
    }
    # a live trigger on the same metric with a higher threshold takes its place
    await use(held, "acme", seats=3)
    full = await explain(held, "acme")
    assert full["prompts"] == ["seats-full"]
    assert decided(full, "seats-shadow") == {
        "outcome": "outranked",
        "fires": False,
        "signal": False,
        "reason": f"{OUTRANKED_BY_SEATS_FULL} (shadow mode)",
    }


async def test_a_signal_only_trigger_fires_and_shows_nothing(held: httpx.AsyncClient) -> None:
    await put_plan(held, "acme", "free")
    await use(held, "acme", seats=3)

    body = await explain(held, "acme", placement="members")

    assert body["signals"] == ["seats-pql"]
    assert body["prompts"] == ["seats-full"]
    assert decided(body, "seats-pql") == {
        "outcome": "signal",
        "fires": True,
        "signal": True,
        "reason": "fires: records a pql signal (3 of 3 seats = 100% >= 100%)",
    }
    # the signal is the account's: a user's placement does not change it
    assert (await explain(held, "acme", placement="reports"))["signals"] == ["seats-pql"]


# --- who may ask, and what -------------------------------------------------------------


async def test_no_credentials_is_401(anonymous: httpx.AsyncClient) -> None:
    answer = await anonymous.get("/v1/accounts/acme/explain")

    assert_error(answer, 401, "unauthorized")


async def test_a_client_token_is_403_even_for_its_own_account_and_user(
    anonymous: httpx.AsyncClient,
) -> None:
    token = mint_client_token(
        "acme", "ana", secret=SIGNING_SECRET, now=datetime.now(UTC), ttl=timedelta(hours=1)
    )

    for params in ({"user_id": "ana"}, {"user_id": "a:b"}):
        answer = await anonymous.get(
            "/v1/accounts/acme/explain",
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        )
        error = assert_error(answer, 403, "forbidden")
        assert "needs a secret key" in error["message"]


@pytest.mark.parametrize(
    ("path", "params", "field", "message"),
    [
        (
            "/v1/accounts/a:b/explain",
            {},
            "account_id",
            "must be 1-128 characters of A-Z a-z 0-9 . _ @ + -",
        ),
        (
            "/v1/accounts/acme/explain",
            {"user_id": "{ana}"},
            "user_id",
            "must be 1-128 characters of A-Z a-z 0-9 . _ @ + -",
        ),
        (
            "/v1/accounts/acme/explain",
            {"placement": ""},
            "placement",
            "String should have at least 1 character",
        ),
        (
            "/v1/accounts/acme/explain",
            {"user": "ana"},
            "user",
            "is not a query parameter of this route; use user_id and placement",
        ),
    ],
    ids=["account id", "user id", "empty placement", "unknown parameter"],
)
async def test_bad_ids_and_parameters_are_422_naming_the_field(
    client: httpx.AsyncClient, path: str, params: dict[str, str], field: str, message: str
) -> None:
    answer = await client.get(path, params=params)

    error = assert_error(answer, 422, "invalid_request")
    assert error["details"] == [{"field": field, "message": message}]
    assert field in error["message"]


async def test_redis_down_is_503_with_retry_after(
    client: httpx.AsyncClient, redis_server: RedisServer
) -> None:
    await put_plan(client, "acme", "free")
    redis_server.stop()
    try:
        answer = await client.get("/v1/accounts/acme/explain")
    finally:
        redis_server.start()

    error = assert_error(answer, 503, "store_unavailable")
    assert "Redis did not answer while reading the account's state" in error["message"]
    assert answer.headers["Retry-After"].isdigit()


async def test_the_openapi_document_describes_the_route(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    operation = document["paths"]["/v1/accounts/{account_id}/explain"]["get"]
    assert sorted((p["name"], p["in"]) for p in operation["parameters"]) == [
        ("account_id", "path"),
        ("placement", "query"),
        ("user_id", "query"),
    ]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/ExplainOut"}
    explain_out = document["components"]["schemas"]["ExplainOut"]
    assert set(explain_out["properties"]) == {
        "account_id",
        "plan",
        "plan_is_default",
        "rules_version",
        "at",
        "user_id",
        "placement",
        "usage",
        "triggers",
        "prompts",
        "signals",
    }
    outcome = document["components"]["schemas"]["TriggerDecisionOut"]["properties"]["outcome"]
    assert {"shown", "below_threshold", "cooldown", "capped", "shadow"} <= set(outcome["enum"])
