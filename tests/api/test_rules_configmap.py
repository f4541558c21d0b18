"""A rules directory mounted from a Kubernetes ConfigMap: the service starts on it, and an
update (the atomic swap of `..data`) is a reload like any edit."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import EXAMPLE_RULES, NudgeFactory
from tests.support.api_calls import rules, seats_full_title
from tests.support.configmap import publish
from tests.support.polling import eventually

DEBOUNCE_MS = 50


def example_files() -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(EXAMPLE_RULES.glob("*.yaml"))}


async def test_the_service_starts_on_a_configmap_mount_and_reloads_on_its_swap(
    nudge_app: NudgeFactory, tmp_path: Path
) -> None:
    mounted = tmp_path / "configmap"
    files = example_files()
    publish(mounted, files)

    async with nudge_app(
        rules_dir=mounted, rules_watch=True, rules_debounce_ms=DEBOUNCE_MS
    ) as client:
        before = await rules(client)
        assert before["last_error"] is None
        await client.put("/v1/accounts/acme", json={"plan": "free"})
        event = {"id": "s", "account_id": "acme", "metric": "seats", "value": 3, "op": "set"}
        await client.post("/v1/usage", json={"events": [event]})
        assert await seats_full_title(client) == "Your team is full"

        files["core.yaml"] = files["core.yaml"].replace("Your team is full", "No seats left")
        publish(mounted, files)

        async def swapped() -> bool:
            return (await rules(client))["version"] != before["version"]

        await eventually(swapped, what="the ConfigMap update goes live")
        assert await seats_full_title(client) == "No seats left"
        assert (await rules(client))["last_error"] is None
