"""Rule files swapped again and again (ConfigMap updates) while the prompt path is under
load: no 5xx, and no answer ever mixes two versions of the rules."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from tests.conftest import API_KEY
from tests.support.configmap import publish
from tests.support.http_load import run_load
from tests.support.service import StartService

AUTH = {"Authorization": f"Bearer {API_KEY}"}
VERSIONS = 12


def files(version: int) -> dict[str, str]:
    """Two files of one version: each titles its prompt with the version."""
    return {
        "core.yaml": (
            "metrics:\n"
            "  seats: {type: gauge}\n"
            "  dashboards: {type: gauge}\n"
            "default_plan: free\n"
            "plans:\n"
            "  free: {limits: {seats: 3, dashboards: 3}, upgrade_to: team}\n"
            "  team: {limits: {}}\n"
            "triggers:\n"
            "  - {id: seats-full, metric: seats, threshold: 100%, priority: 20,\n"
            f'     prompt: {{title: "seats v{version}"}}}}\n'
        ),
        "dashboards.yaml": (
            "triggers:\n"
            "  - {id: dashboards-full, metric: dashboards, threshold: 100%, priority: 10,\n"
            f'     prompt: {{title: "dashboards v{version}"}}}}\n'
        ),
    }


def prompts(http: httpx.Client) -> httpx.Response:
    return http.get("/v1/prompts", params={"account_id": "acme"})


def versions_in(body: object) -> list[int]:
    assert isinstance(body, dict), body
    return [int(re.sub(r"\D", "", p["title"])) for p in body["prompts"]]


def test_configmap_swaps_under_load_answer_no_5xx_and_never_a_mixed_version(
    redis_url: str, tmp_path: Path, start_service: StartService
) -> None:
    mounted = tmp_path / "configmap"
    publish(mounted, files(1))
    service = start_service(
        redis_url=redis_url,
        rules_dir=mounted,
        NUDGE_RULES_WATCH="true",
        NUDGE_RULES_DEBOUNCE_MS="50",
    )
    with service.admin() as http:
        full = [
            {"id": m, "account_id": "acme", "metric": m, "value": 3, "op": "set"}
            for m in ("seats", "dashboards")
        ]
        assert http.post("/v1/usage", json={"events": full}).status_code == 202
        assert versions_in(prompts(http).json()) == [1, 1]

    def swap_again_and_again() -> None:
        for version in range(2, VERSIONS + 1):
            time.sleep(0.25)
            publish(mounted, files(version))

    load = run_load(
        prompts, base_url=service.url, headers=AUTH, seconds=4, during=swap_again_and_again
    )

    assert load.statuses == {200}, [a for a in load.answers if a.status != 200][:3]
    seen = [versions_in(answer.body) for answer in load.answers]
    mixed = [pair for pair in seen if len(pair) != 2 or pair[0] != pair[1]]
    assert mixed == []
    assert len({pair[0] for pair in seen}) > 3, "too few swaps went live to prove anything"
    deadline = time.monotonic() + 5
    with service.admin() as http:
        while versions_in(prompts(http).json()) != [VERSIONS, VERSIONS]:
            assert time.monotonic() < deadline, "the last update did not go live"
            time.sleep(0.05)
