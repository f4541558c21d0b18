"""Read one YAML document into plain data while remembering where each value stood.

PyYAML's safe loader silently keeps the last of two equal keys and forgets line
numbers; rule authors need both caught and reported, so the document is composed
into nodes and converted here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from app.engine.problems import Problem

DataPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class SourceDocument:
    """A parsed rule file: its data, and the position of every key and list item."""

    file: str
    data: Any
    positions: dict[DataPath, Position] = field(default_factory=dict)

    def position(self, path: DataPath) -> Position:
        """The position of `path`, or of its nearest located ancestor."""
        while path:
            found = self.positions.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.positions.get((), Position(1, 1))

    def problem(self, path: DataPath, message: str) -> Problem:
        where = self.position(path)
        return Problem(file=self.file, line=where.line, column=where.column, message=message)


def parse_yaml(file: str, text: str) -> tuple[SourceDocument, list[Problem]]:
    """Parse `text` (the content of `file`); return the document and every problem found."""
    document = SourceDocument(file=file, data=None)
    problems: list[Problem] = []
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            document.data = _convert(node, (), loader, document, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = exc.problem or exc.context or "invalid YAML"
        problems.append(Problem(file, line, column, f"YAML syntax error: {reason}"))
    except yaml.YAMLError as exc:
        problems.append(Problem(file, 1, 1, f"YAML syntax error: {exc}"))
    finally:
        loader.dispose()
    return document, problems


def _mark(node: yaml.Node) -> Position:
    return Position(node.start_mark.line + 1, node.start_mark.column + 1)


def _convert(
    node: yaml.Node,
    path: DataPath,
    loader: yaml.SafeLoader,
    document: SourceDocument,
    problems: list[Problem],
) -> Any:
    document.positions.setdefault(path, _mark(node))
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                problems.append(
                    document.problem(path, "YAML merge keys (<<) are not supported; write keys out")
                )
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(
                    Problem(document.file, *_position_tuple(key_node), "a key must be a plain word")
                )
                continue
            key = loader.construct_object(key_node)
            key = key if isinstance(key, str) else str(key)
            if key in result:
                first = document.positions[(*path, key)]
                problems.append(
                    Problem(
                        document.file,
                        *_position_tuple(key_node),
                        f'key "{key}" is repeated in this mapping (first at line {first.line})',
                    )
                )
                continue
            document.positions[(*path, key)] = _mark(key_node)
            result[key] = _convert(value_node, (*path, key), loader, document, problems)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*path, index), loader, document, problems)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node)


def _position_tuple(node: yaml.Node) -> tuple[int, int]:
    where = _mark(node)
    return where.line, where.column
