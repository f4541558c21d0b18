"""The engine has one public face, `app.engine`: outside code imports from it, and its
`__all__` is exactly what it exports (in the manner of httpx's test_exported_members)."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import app.engine

ROOT = Path(app.engine.__file__).resolve().parents[2]
ENGINE = ROOT / "app" / "engine"


def _outside_sources() -> list[Path]:
    """The Python files under app/ (less the engine) and bench/."""
    found = [path for path in (ROOT / "app").rglob("*.py") if ENGINE not in path.parents]
    return sorted(found + list((ROOT / "bench").rglob("*.py")))


def _reaches_inside(path: Path) -> list[str]:
    """Each import in `path` of an engine module other than `app.engine` itself."""
    inside = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules = [node.module]
            if node.module == "app.engine":  # a submodule imported by name
                modules += [
                    f"app.engine.{alias.name}"
                    for alias in node.names
                    if alias.name not in app.engine.__all__
                ]
        else:
            continue
        where = path.relative_to(ROOT) if ROOT in path.parents else path
        inside += [
            f"{where}:{node.lineno}: {module}"
            for module in modules
            if module.startswith("app.engine.")
        ]
    return inside


def test_outside_code_imports_the_engine_through_its_face_only() -> None:
    sources = _outside_sources()
    assert len(sources) >= 40
    assert [found for path in sources for found in _reaches_inside(path)] == []


def test_the_face_check_would_catch_an_import_from_inside(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import app.engine.model.windows\n"
        "from app.engine.rule_files.loader import load_rules\n"
        "from app.engine import evaluate, model\n"
    )
    found = [line.rsplit(": ", 1)[1] for line in _reaches_inside(sample)]
    assert found == ["app.engine.model.windows", "app.engine.rule_files.loader", "app.engine.model"]


def test_all_names_exactly_what_the_face_exports() -> None:
    exported = {
        name
        for name, value in vars(app.engine).items()
        if not name.startswith("_") and not isinstance(value, ModuleType)
    }
    assert sorted(app.engine.__all__) == sorted(exported)
    assert len(app.engine.__all__) == len(exported)
