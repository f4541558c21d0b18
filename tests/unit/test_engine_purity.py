"""The engine is pure: no web framework, Redis, SQL or HTTP client, and no clock of its own."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import app.engine

ENGINE = Path(app.engine.__file__).resolve().parent
FORBIDDEN = ("fastapi", "starlette", "redis", "sqlalchemy", "httpx")
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
               ("date", "today"), ("time", "time"), ("time", "monotonic"),
               ("time", "perf_counter"), ("time", "sleep")}  # fmt: skip

IMPORT_EVERY_ENGINE_MODULE = f"""
import importlib, pkgutil, sys
import app.engine
modules = [m.name for m in pkgutil.walk_packages(app.engine.__path__, "app.engine.")]
assert len(modules) >= 30, modules
for name in modules:
    importlib.import_module(name)
forbidden = {FORBIDDEN!r}
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in forbidden)))
"""


def test_importing_the_engine_imports_no_web_framework_redis_sql_or_http_client() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EVERY_ENGINE_MODULE],
        capture_output=True,
        text=True,
        check=False,
        cwd=ENGINE.parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def _clock_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", None)
        if (name, node.attr) in CLOCK_CALLS:
            found.append(f"{path.name}:{node.lineno}: {name}.{node.attr}")
    return found


def test_engine_never_reads_the_clock() -> None:
    sources = sorted(ENGINE.rglob("*.py"))
    assert len(sources) >= 30
    assert [call for path in sources for call in _clock_calls(path)] == []


def test_clock_check_would_catch_a_clock_read(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import datetime, time\nx = datetime.datetime.now()\ny = time.time()\n")
    assert _clock_calls(sample) == ["sample.py:2: datetime.now", "sample.py:3: time.time"]
