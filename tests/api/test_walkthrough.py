"""The README's worked example, end to end through the HTTP API: the story it tells, and
the answer it shows under every call, read from the README itself."""

from __future__ import annotations

import asyncio
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass

import httpx

from tests.conftest import REPO

README = REPO / "README.md"


@dataclass
class ShownCall:
    command: str  # one shell command of the walk-through, continuation lines joined
    answer: str | None = None  # the comment under it; "…" stands for text left out


def walkthrough() -> list[ShownCall]:
    """Every curl of the README's walk-through (the sh block that sets NUDGE_URL)."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(), flags=re.DOTALL)
    [block] = [text for text in blocks if "export NUDGE_URL=" in text]
    lines = re.sub(r"\\\n\s*", "", block).splitlines()  # join `\` continuations
    calls: list[ShownCall] = []
    in_answer = False
    for line in lines:
        command, _, inline = line.partition("   # ")
        if command.startswith(("curl ", "id=$(curl ")):
            calls.append(ShownCall(command.strip(), inline.strip() or None))
            in_answer = bool(inline)
        elif line.startswith(("# {", "# id=")) and calls and calls[-1].answer is None:
            calls[-1].answer = line.removeprefix("# ").strip()
            in_answer = True
        elif line.startswith("#   ") and in_answer:
            calls[-1].answer = f"{calls[-1].answer}{line.removeprefix('#').strip()}"
        else:
            in_answer = False
    return calls


async def run(call: ShownCall, client: httpx.AsyncClient, *, prompt_id: str) -> str:
    """What the call prints, made through `client` (which holds the secret key)."""
    command, pipe = call.command, None
    if command.startswith("id=$("):
        command, _, pipe = command.removeprefix("id=$(").removesuffix(")").partition(" | ")
    words = shlex.split(command.replace("$NUDGE_URL", "").replace("$id", prompt_id))
    method, url, body = "GET", None, None
    arguments = iter(words[1:])
    for word in arguments:
        if word == "-s":
            continue
        if word == "-X":
            method = next(arguments)
        elif word == "-H":
            next(arguments)  # $auth and $json: the client sends both
        elif word == "-d":
            body = next(arguments)
        elif not word.startswith("-") and url is None:
            url = word
        else:
            raise AssertionError(f"the README's {call.command!r}: {word!r} is new to this test")
    assert url is not None, call.command
    headers = {"Content-Type": "application/json"} if body is not None else {}
    answer = await client.request(method, url, content=body, headers=headers)
    if pipe is None:
        return answer.text
    program = shlex.split(pipe)
    assert program[:2] == ["python3", "-c"], pipe
    piped = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", program[2]],
        input=answer.text,
        capture_output=True,
        text=True,
    )
    assert piped.returncode == 0, piped.stderr
    return f"id={piped.stdout.strip()}"


def shows(answer: str, printed: str) -> bool:
    pattern = ".*?".join(re.escape(part) for part in answer.split("…"))
    return re.fullmatch(pattern, printed, flags=re.DOTALL) is not None


async def test_every_call_of_the_readme_walkthrough_shows_its_real_answer(
    client: httpx.AsyncClient,
) -> None:
    calls = walkthrough()
    assert len(calls) == 10  # the five steps' calls, the dismissal's among them
    unshown = [call.command for call in calls if call.answer is None]
    assert unshown == [], "the README shows no answer for these calls"

    prompt_id = ""
    for call in calls:
        printed = await run(call, client, prompt_id=prompt_id)
        if printed.startswith("id="):
            prompt_id = printed.removeprefix("id=")
        assert call.answer is not None
        assert shows(call.answer, printed), (
            f"under {call.command!r} the README shows\n  {call.answer}\nbut it prints\n  {printed}"
        )


async def test_third_seat_brings_the_full_team_modal_and_dismissing_hides_it(
    client: httpx.AsyncClient,
) -> None:
    put = await client.put("/v1/accounts/acme", json={"plan": "free"})
    assert put.status_code == 200
    assert put.json()["plan"] == "free"

    usage = await client.post(
        "/v1/usage",
        json={
            "events": [
                {"id": "seat-3", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"}
            ]
        },
    )
    assert usage.status_code == 202
    assert usage.json() == {"accepted": 1, "duplicates": 0}

    answer = await client.get("/v1/prompts", params={"account_id": "acme", "user_id": "ana"})
    assert answer.status_code == 200
    prompts = answer.json()["prompts"]
    assert [p["trigger"] for p in prompts] == ["seats-full"]
    full = prompts[0]
    assert full["title"] == "Your team is full"
    assert full["body"] == "free includes 3 seats. Upgrade to team to invite more people."
    assert full["cta"] == {"label": "Upgrade", "url": "/billing/upgrade?plan=team"}
    assert (full["usage"], full["limit"], full["plan"], full["upgrade_plan"]) == (
        3,
        3,
        "free",
        "team",
    )

    dismissed = await client.post(f"/v1/prompts/{full['id']}/events", json={"type": "dismissed"})
    assert dismissed.status_code == 202

    again = await client.get("/v1/prompts", params={"account_id": "acme", "user_id": "ana"})
    assert again.json()["prompts"] == []
    for_bo = await client.get("/v1/prompts", params={"account_id": "acme", "user_id": "bo"})
    assert [p["trigger"] for p in for_bo.json()["prompts"]] == ["seats-full"]

    assert (await client.put("/v1/accounts/acme", json={"plan": "team"})).status_code == 200
    upgraded = await client.get("/v1/prompts", params={"account_id": "acme", "user_id": "bo"})
    assert upgraded.json()["prompts"] == []
