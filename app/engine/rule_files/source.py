"""Read one YAML document into plain data while remembering where each value stood.

PyYAML's safe loader silently keeps the last of two equal keys and forgets line
numbers; rule authors need both caught and reported, so the document is composed
into nodes and converted here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from app.engine.problems import Problem

DataPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


# The line breaks YAML counts lines by (str.splitlines knows more, so it would miscount).
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_QUOTED_ESCAPE_LENGTH = {"x": 4, "u": 6, "U": 10}  # \xNN, \uNNNN, \UNNNNNNNN


@dataclass(frozen=True, slots=True)
class ScalarSpan:
    """Where a scalar value was written, and how: the style decides how text maps to columns."""

    line: int  # 1-based, where the value (or its quote or block indicator) starts
    column: int  # 1-based
    end_line: int  # 1-based, the line where the value ends
    style: str | None  # None (plain), "'", '"', "|" or ">"


@dataclass
class SourceDocument:
    """A parsed rule file: its data, and the position of every key, list item and scalar."""

    file: str
    data: Any
    positions: dict[DataPath, Position] = field(default_factory=dict)
    value_spans: dict[DataPath, ScalarSpan] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def value_position(self, path: DataPath, offset: int) -> Position:
        """The position of the character at `offset` in the string value at `path`.

        Exact for single-line values in every style and for block scalars (| and >);
        for multi-line plain or quoted values, exact unless a line holds escapes.
        """
        span = self.value_spans.get(path)
        value = self._value(path)
        if span is None or value is None:
            return self.position(path)
        if span.line == span.end_line and span.style in (None, "'", '"'):
            return Position(span.line, self._single_line_column(span, offset))
        return self._multi_line_position(span, value, offset=offset)

    def _value(self, path: DataPath) -> str | None:
        value: Any = self.data
        for part in path:
            try:
                value = value[part]
            except (KeyError, IndexError, TypeError):
                return None
        return value if isinstance(value, str) else None

    def _single_line_column(self, span: ScalarSpan, offset: int) -> int:
        if span.style is None:
            return span.column + offset
        text = self.lines[span.line - 1] if span.line <= len(self.lines) else ""
        index = span.column  # 0-based index just after the opening quote
        for _ in range(offset):
            if span.style == "'" and text[index : index + 2] == "''":
                index += 2
            elif span.style == '"' and text[index : index + 1] == "\\":
                index += _QUOTED_ESCAPE_LENGTH.get(text[index + 1 : index + 2], 2)
            else:
                index += 1
        return index + 1

    def _multi_line_position(self, span: ScalarSpan, value: str, *, offset: int) -> Position:
        # Follow the value through its source lines: each line's text (without its
        # indentation) continues the value after the line break or space it was folded to.
        segments: list[tuple[int, int, str]] = []  # (1-based line, 0-based column, text)
        if span.style not in ("|", ">"):
            first = self.lines[span.line - 1] if span.line <= len(self.lines) else ""
            skip = span.column - 1 + (1 if span.style else 0)
            segments.append((span.line, skip, first[skip:]))
        for line in range(span.line + 1, min(span.end_line, len(self.lines)) + 1):
            segments.append((line, 0, self.lines[line - 1]))
        consumed = 0
        last = Position(span.line, span.column)
        for line, column, text in segments:
            body = text.lstrip(" \t")
            column += len(text) - len(body)
            start = consumed
            while start < len(value) and value[start].isspace():
                start += 1
            matched = 0
            while (
                matched < min(len(body), len(value) - start)
                and body[matched] == value[start + matched]
            ):
                matched += 1
            if matched == 0:
                continue
            if offset < start:
                return last
            if offset < start + matched:
                return Position(line, column + offset - start + 1)
            consumed = start + matched
            last = Position(line, column + matched + 1)
        return last

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
    document = SourceDocument(file=file, data=None, lines=_LINE_BREAK.split(text))
    problems: list[Problem] = []
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            document.data = _Converter(loader, document, problems).convert(node, ())
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


@dataclass
class _Converter:
    """Builds the data of a YAML node tree, recording in `document` where each key, item
    and scalar is, and in `problems` what a rule file may not hold."""

    loader: yaml.SafeLoader
    document: SourceDocument
    problems: list[Problem]

    def convert(self, node: yaml.Node, path: DataPath) -> Any:
        self.document.positions.setdefault(path, _mark(node))
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode):
            where = _mark(node)
            end_line = node.end_mark.line + 1 if node.end_mark is not None else where.line
            span = ScalarSpan(where.line, where.column, end_line, node.style)
            self.document.value_spans[path] = span
        return self.loader.construct_object(node)

    def _mapping(self, node: yaml.MappingNode, path: DataPath) -> dict[Any, Any]:
        document, problems = self.document, self.problems
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
            key = self.loader.construct_object(key_node)
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
            result[key] = self.convert(value_node, (*path, key))
        return result


def _position_tuple(node: yaml.Node) -> tuple[int, int]:
    where = _mark(node)
    return where.line, where.column
