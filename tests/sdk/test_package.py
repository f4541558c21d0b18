"""The SDK's public surface and its footprint in a host application."""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import json
import subprocess
import sys

import nudge_sdk

PUBLIC = {
    "Account",
    "AsyncNudgeClient",
    "ClientStats",
    "Cta",
    "ErrorCallback",
    "MetricUsage",
    "NudgeAPIError",
    "NudgeClient",
    "NudgeConnectionError",
    "NudgeError",
    "Prompt",
    "PromptEventType",
    "PromptStyle",
    "RetryPolicy",
    "UsageEvent",
    "UsageOp",
    "__version__",
}


IMPORTED_MODULES = (
    "import json, sys, nudge_sdk; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
)


def test_the_public_names_are_exactly_the_documented_ones() -> None:
    assert set(nudge_sdk.__all__) == PUBLIC
    assert all(hasattr(nudge_sdk, name) for name in PUBLIC)
    # nothing capitalised is importable from the package without being in __all__
    assert {name for name in dir(nudge_sdk) if name[0].isupper()} == PUBLIC - {"__version__"}


def test_the_package_needs_only_httpx_and_pyjwt_and_never_the_service() -> None:
    requires = importlib.metadata.requires("nudge-sdk") or []
    assert sorted(requirement.split(">")[0].lower() for requirement in requires) == [
        "httpx",
        "pyjwt",
    ]
    assert importlib.metadata.version("nudge-sdk") == nudge_sdk.__version__
    done = subprocess.run(
        [sys.executable, "-c", IMPORTED_MODULES], capture_output=True, text=True, check=True
    )
    imported = set(json.loads(done.stdout))
    assert not imported & {"app", "fastapi", "redis", "sqlalchemy", "pydantic"}


def test_the_package_ships_its_type_information() -> None:
    assert importlib.resources.files("nudge_sdk").joinpath("py.typed").is_file()
