"""The folder list of app/ is the architecture, and imports follow it one way:

    cli, main ─▶ startup (the composition root) ─▶ api ─▶ services ─▶ store, engine

The engine is pure and imports nothing else of app/ (test_engine_purity.py holds it to
no I/O; test_engine_face.py to its face); the store knows the engine, not the services;
the services know the store and the engine, never the API; the API hands requests to
services and knows no store. The small shared modules at app/'s top (settings, errors,
clock, identifiers, observability) import none of the layers but the engine's face.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

SHARED = {"app.settings", "app.errors", "app.clock", "app.identifiers", "app.observability"}
# What each layer may import from app/ (besides itself); anything else is upward or across.
ALLOWED: dict[str, set[str]] = {
    "app.engine": set(),
    "app.store": {"app.engine", "app.errors", "app.clock", "app.settings"},
    "app.services": {"app.engine", "app.store", *SHARED},
    "app.api": {"app.services", "app.engine", "app.runtime", *SHARED},
    "app.commands": {
        "app.services",
        "app.engine",
        "app.store",
        "app.api.schemas",
        "app.embedded_redis",
        *SHARED,
    },
    **{shared: {"app.engine"} for shared in SHARED},
}


def layer_of(module: str) -> str | None:
    for layer in sorted(ALLOWED, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def app_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "app" or name.startswith("app.")}


def module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(APP.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(APP.parent)))
def test_imports_run_down_the_layers(path: Path) -> None:
    module = module_name(path)
    layer = layer_of(module)
    if layer is None:
        return  # cli, main, startup, runtime, embedded_redis, server_protocol: the top
    allowed = ALLOWED[layer]
    upward = {
        imported
        for imported in app_imports(path)
        if layer_of(imported) != layer
        and not any(imported == ok or imported.startswith(ok + ".") for ok in allowed)
    }
    assert upward == set(), f"{module} ({layer}) imports {sorted(upward)}"


def test_every_module_is_in_a_layer_or_at_the_top() -> None:
    top = {"app", "app.cli", "app.main", "app.startup", "app.runtime", "app.embedded_redis"}
    top |= {"app.server_protocol"}
    unplaced = [m for m in map(module_name, MODULES) if layer_of(m) is None and m not in top]
    assert unplaced == []
