"""The settings table of docs/operations.md ("Settings") is the one list of settings, held
to app/settings.py: every setting has a row, every row is a setting, and each default and
range it states is the field's.

How a table's default is read:
- In backticks, it is read as the variable's value would be (`120/minute`, `24h`, `50`,
  `false`, `var`) and must give the field's default. A `$NUDGE_...` in it stands for that
  variable's own default in the table: `sqlite:///$NUDGE_DATA_DIR/nudge.db` is read as
  `sqlite:///var/nudge.db`, the default DATABASE_URL built from the default data directory.
- Deliberate exception: a default written in words as "unset" or "unset: ..." describes
  what the service does without the variable (an embedded redis-server, a generated key);
  the field's default must then be no value at all (None, or an empty list).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from annotated_types import Ge, Gt, Le
from pydantic.fields import FieldInfo

from app.settings import Settings
from tests.conftest import REPO

OPERATIONS = REPO / "docs" / "operations.md"
DOCS = sorted([REPO / "README.md", *REPO.glob("docs/*.md")])
CODE_SPAN = re.compile(r"`([^`]+)`")
RANGE = re.compile(r"\((\d+)\u2013(\d+)\)")  # "(10-60000)", with an en dash, in a meaning
UNSET = "unset"


@dataclass(frozen=True)
class Row:
    place: str  # file:line, for the failure message
    cells: dict[str, str]  # header -> cell


def table_rows(path: Path, *, under: str | None = None) -> list[list[Row]]:
    """The markdown tables of a file, outside code blocks; with `under`, only the first
    table after the heading of that name."""
    tables: list[list[Row]] = []
    header: list[str] | None = None
    in_code = False
    wanted = under is None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith("```"):
            in_code = not in_code
        if in_code:
            continue
        if line.startswith("#"):
            if under is not None:
                wanted = line.lstrip("#").strip() == under
            header = None
            continue
        if not line.startswith("|"):
            header = None
            continue
        cells = split_row(line)
        if header is None:
            header = [cell.lower() for cell in cells]
            if wanted:
                tables.append([])
        elif set(line) <= set("|-: ") or not wanted:
            continue
        else:
            place = f"{path.relative_to(REPO)}:{number}"
            tables[-1].append(Row(place, dict(zip(header, cells, strict=False))))
    return tables[:1] if under is not None else tables


def split_row(line: str) -> list[str]:
    """A table row's cells; `\\|` inside a cell is not a column break."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def env_names(field: FieldInfo) -> list[str]:
    """The variables a field is read from: its validation alias (or aliases)."""
    alias = field.validation_alias
    choices = getattr(alias, "choices", [alias])
    return [choice for choice in choices if isinstance(choice, str)]


FIELDS: dict[str, str] = {
    name: field_name
    for field_name, field in Settings.model_fields.items()
    for name in env_names(field)
}


def variable(row: Row) -> str | None:
    """The one variable a row names in its first column, if the cell is exactly that."""
    first = next(iter(row.cells.values()))
    match = re.fullmatch(r"`([A-Z][A-Z0-9_]*)`", first)
    return match.group(1) if match else None


def settings_rows() -> list[Row]:
    tables = table_rows(OPERATIONS, under="Settings")
    assert tables and tables[0], 'docs/operations.md has no table under its "Settings" heading'
    return tables[0]


def defaulted_rows() -> list[Row]:
    """Every row in the docs that names a setting and states its default."""
    return [
        row
        for doc in DOCS
        for table in table_rows(doc)
        for row in table
        if "default" in row.cells and variable(row) in FIELDS
    ]


@pytest.fixture
def no_settings_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defaults are what Settings holds with none of its variables set."""
    for name in FIELDS:
        monkeypatch.delenv(name, raising=False)


def read_as_variable(name: str, text: str) -> Any:
    """What the setting holds when its variable is `text`."""
    settings = Settings(**{name: text})
    return getattr(settings, FIELDS[name])


def stated_default(row: Row, table_defaults: dict[str, str]) -> str:
    """The default a row states: the first code span, or UNSET for "unset: ..."."""
    cell = row.cells["default"]
    if cell.lower().startswith(UNSET):
        return UNSET
    match = CODE_SPAN.search(cell)
    assert match, (
        f"{row.place}: write {variable(row)}'s default in backticks (`50`), "
        f'or as "unset: <what happens then>"; got {cell!r}'
    )
    return re.sub(
        r"\$([A-Z][A-Z0-9_]*)", lambda name: table_defaults.get(name.group(1), ""), match[1]
    )


def test_every_setting_has_a_row_in_the_settings_table() -> None:
    named = {variable(row) for row in settings_rows()}
    missing = sorted(set(FIELDS) - named)
    assert missing == [], (
        f"app/settings.py reads {', '.join(missing)}, which docs/operations.md's "
        "Settings table does not list: add a row for each"
    )


def test_the_settings_table_names_only_settings_that_exist() -> None:
    unknown = [
        f"{row.place}: {next(iter(row.cells.values()))}"
        for row in settings_rows()
        if variable(row) not in FIELDS
    ]
    assert unknown == [], (
        "these rows name no variable that app/settings.py reads (one `VARIABLE` per row):\n"
        + "\n".join(unknown)
    )


def test_each_variable_has_one_row_in_the_settings_table() -> None:
    named = [variable(row) for row in settings_rows()]
    assert sorted(name for name in set(named) if named.count(name) > 1) == []


@pytest.mark.usefixtures("no_settings_in_the_environment")
def test_each_default_the_docs_state_is_the_settings_default() -> None:
    defaults = Settings()
    table_defaults = {
        name: match[1]
        for row in settings_rows()
        if (name := variable(row)) and (match := CODE_SPAN.match(row.cells["default"]))
    }
    wrong = []
    rows = defaulted_rows()
    assert len(rows) >= len(FIELDS)  # the Settings table's rows, at least
    for row in rows:
        name = variable(row)
        assert name is not None
        default = getattr(defaults, FIELDS[name])
        stated = stated_default(row, table_defaults)
        if stated == UNSET:
            if default not in (None, ()):
                wrong.append(f"{row.place}: {name}: the docs say unset, the default is {default!r}")
        elif (value := read_as_variable(name, stated)) != default:
            wrong.append(
                f"{row.place}: {name}: the docs say `{stated}` ({value!r}), "
                f"the default is {default!r}"
            )
    assert wrong == [], "\n".join(wrong)


def bounds(field: FieldInfo) -> tuple[float | None, float | None]:
    low = next((m.ge for m in field.metadata if isinstance(m, Ge)), None)
    above = next((m.gt for m in field.metadata if isinstance(m, Gt)), None)
    high = next((m.le for m in field.metadata if isinstance(m, Le)), None)
    return (low if above is None else None), high


def test_each_range_the_settings_table_states_is_the_fields_bounds() -> None:
    stated = [
        (row, name, match)
        for row in settings_rows()
        if (name := variable(row)) in FIELDS
        and (match := RANGE.search(row.cells.get("meaning", "")))
    ]
    assert stated, "the Settings table states no range; this test would check nothing"
    wrong = [
        f"{row.place}: {name}: the docs say {match[0]}, the field allows "
        f"{bounds(Settings.model_fields[FIELDS[name]])}"
        for row, name, match in stated
        if bounds(Settings.model_fields[FIELDS[name]]) != (int(match[1]), int(match[2]))
    ]
    assert wrong == [], "\n".join(wrong)
