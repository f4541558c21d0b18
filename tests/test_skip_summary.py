"""A run with skipped tests ends with one line: why they skipped and how to run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

TESTS = """
import pytest

@pytest.mark.parametrize("n", [1, 2, 3])
def test_on_postgresql(n):
    pytest.skip("TEST_DATABASE_URL is not set")

def test_on_a_gpu():
    pytest.skip("no GPU here")

def test_that_runs():
    pass
"""


def _pytest(directory: Path, tests: str = TESTS) -> list[str]:
    """Run `tests` in pytest with the suite's conftest as a plugin; the lines it printed."""
    (directory / "test_sample.py").write_text(tests)
    plugins = ["-p", "tests.conftest", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", *plugins, "-q", "-ra", str(directory)],
        cwd=directory,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout.splitlines()


def test_the_last_line_before_the_counts_groups_the_skips_and_says_how_to_run_them(
    tmp_path: Path,
) -> None:
    *_, summary, counts = _pytest(tmp_path)
    assert counts.startswith("1 passed, 4 skipped in ")
    assert summary.startswith(
        "4 skipped: 3 PostgreSQL tests need TEST_DATABASE_URL, e.g. "
        "`TEST_DATABASE_URL=postgresql://postgres:postgres@127.0.0.1:5432/test make test` "
        "(start one on Debian/Ubuntu: `sudo apt-get install -y postgresql && "
        "sudo service postgresql start && "
        "sudo -u postgres psql -c \"ALTER USER postgres PASSWORD 'postgres'\" "
        "-c 'CREATE DATABASE test'`)"
    )
    assert summary.endswith("; 1: no GPU here")


def test_the_line_comes_after_the_list_of_skipped_tests(tmp_path: Path) -> None:
    lines = _pytest(tmp_path)
    listed = max(i for i, line in enumerate(lines) if line.startswith("SKIPPED "))
    assert lines[listed + 1].startswith("4 skipped: ")


def test_skips_of_one_reason_only_are_not_counted_twice(tmp_path: Path) -> None:
    tests = "import pytest\n\ndef test_it():\n    pytest.skip('TEST_DATABASE_URL is not set')\n"
    *_, summary, counts = _pytest(tmp_path, tests)
    assert counts.startswith("1 skipped in ")
    assert summary.startswith("1 skipped: PostgreSQL tests need TEST_DATABASE_URL, e.g. ")


def test_a_run_without_skips_has_no_such_line(tmp_path: Path) -> None:
    lines = _pytest(tmp_path, "def test_that_runs():\n    pass\n")
    assert not [line for line in lines if "skipped" in line]
