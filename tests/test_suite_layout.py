"""The suite's own layout: helpers live in tests/support, and a module imports helpers,
never a test module or a folder's conftest (pytest hands a folder's fixtures to its
tests). The root conftest is the exception: it also holds the values its fixtures use
and tests assert with (the secret key, the signing secret, REPO)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
SUPPORT = TESTS / "support"
TEST_FOLDER_FILES = ("__init__.py", "conftest.py")


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every module `path` imports, `from a import b` as both a
    and a.b (b may be a module)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _reaches_into_tests(path: Path) -> list[str]:
    """Each import in `path` of a test module, or of a conftest other than the root's."""
    where = path.relative_to(REPO) if REPO in path.parents else path
    wrong = []
    for line, module in _imported_modules(path):
        last = module.rsplit(".", 1)[-1]
        if last.startswith("test_") or (last == "conftest" and module != "tests.conftest"):
            wrong.append(f"{where}:{line}: {module}")
    return wrong


def test_no_module_imports_a_test_module_or_a_folders_conftest() -> None:
    sources = sorted([*TESTS.rglob("*.py"), *(REPO / "bench").rglob("*.py")])
    assert len(sources) > 100
    assert [found for path in sources for found in _reaches_into_tests(path)] == []


def test_the_check_would_catch_each_way_of_importing_a_test_module(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from tests.api.test_frequency import set_usage\n"
        "from tests.api import test_frequency\n"
        "import tests.integration.test_redis_round_trip\n"
        "from tests.sdk.conftest import Service\n"
        "from tests.conftest import API_KEY\n"
        "from tests.support.api_calls import set_usage\n"
    )

    assert [found.rsplit(": ", 1)[1] for found in _reaches_into_tests(sample)] == [
        "tests.api.test_frequency",
        "tests.api.test_frequency",
        "tests.integration.test_redis_round_trip",
        "tests.sdk.conftest",
    ]


def test_helpers_live_in_tests_support_and_test_folders_hold_only_tests() -> None:
    outside = [
        str(path.relative_to(TESTS))
        for path in TESTS.rglob("*.py")
        if SUPPORT not in path.parents
        and not path.name.startswith("test_")
        and path.name not in TEST_FOLDER_FILES
    ]

    assert outside == []


def test_free_port_is_defined_once_by_the_embedded_default() -> None:
    sources = [
        path
        for folder in ("app", "tests", "bench", "examples", "sdk")
        for path in (REPO / folder).rglob("*.py")
    ]
    defined = [
        str(path.relative_to(REPO))
        for path in sources
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name == "free_port"
    ]

    assert defined == ["app/embedded_redis.py"]
