"""The default SQLite database lives in the data directory (SPEC: DATABASE_URL defaults to
`sqlite:///$NUDGE_DATA_DIR/nudge.db`), so two data directories never share a database."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "NUDGE_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_without_settings_the_database_is_var_nudge_db() -> None:
    assert load_settings().database_url == "sqlite:///var/nudge.db"


def test_the_default_database_follows_nudge_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUDGE_DATA_DIR", "/srv/nudge-b")

    assert load_settings().database_url == "sqlite:////srv/nudge-b/nudge.db"


def test_a_relative_data_dir_keeps_the_database_relative_to_the_working_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("NUDGE_DATA_DIR", "var/instance-2")

    assert load_settings().database_url == "sqlite:///var/instance-2/nudge.db"


def test_the_default_database_follows_a_data_dir_given_to_the_factory(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path).database_url == f"sqlite:///{tmp_path}/nudge.db"


def test_database_url_wins_over_the_data_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUDGE_DATA_DIR", "/srv/nudge-b")
    monkeypatch.setenv("DATABASE_URL", "postgresql://nudge@db.internal/nudge")

    assert load_settings().database_url == "postgresql://nudge@db.internal/nudge"


def test_two_data_directories_get_two_databases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUDGE_DATA_DIR", "/srv/nudge-a")
    first = load_settings()
    monkeypatch.setenv("NUDGE_DATA_DIR", "/srv/nudge-b")
    second = load_settings()

    assert first.database_url != second.database_url
