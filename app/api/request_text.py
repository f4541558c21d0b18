"""Find text in a request that is not valid Unicode, and name where it is.

Python's JSON parser accepts a lone surrogate escape such as "\\ud800" and hands back a
string that cannot be encoded as UTF-8; percent-decoding accepts bytes that are not
UTF-8. Such text must never reach a route: Redis keys, SQL rows and JSON answers all
need UTF-8, so a request carrying one is refused whole (422) before anything is applied.

Each finder returns None for a clean request, or the error detail that names the field
(`events[0].id`, `attributes`, a query parameter, `path`) and what is wrong there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote_to_bytes

Detail = dict[str, Any]
Path = tuple[str | int, ...]

# A JSON escape of a UTF-16 surrogate (\uD800-\uDFFF); a valid pair matches too, so a
# match only means the parsed body must be looked at.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")

_FIX = "send text as UTF-8 (a \\uD800-\\uDBFF escape must be followed by its \\uDC00-\\uDFFF pair)"
_URL_FIX = "percent-encode the UTF-8 bytes of the text"


def invalid_text_in_body(body: bytes) -> Detail | None:
    """The first string (value or key) of a JSON body that is not valid Unicode."""
    raw_bytes = False
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # Decode what can be decoded, keeping each bad byte as a lone surrogate, so the
        # JSON can still be parsed and the field holding the bad bytes named.
        text = body.decode("utf-8", "surrogateescape")
        raw_bytes = True
    else:
        if _SURROGATE_ESCAPE.search(body) is None:
            return None  # the common case: nothing to parse twice
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        if text.isascii() or _encodable(text):
            return None  # not JSON: the route says so in its own words
        return {"field": "body", "message": f"is not valid UTF-8 text; {_FIX}"}
    for path, problem in _strings(document, raw_bytes=raw_bytes):
        return {**_location(path), "message": problem}
    return None


def invalid_text_in_query(query_string: bytes) -> Detail | None:
    """The first query parameter whose name or value is not UTF-8 once percent-decoded."""
    if query_string.isascii() and b"%" not in query_string:
        return None
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        raw_name = unquote_to_bytes(name.replace(b"+", b" "))
        if not _is_utf8(raw_name):
            return {
                "field": "query",
                "message": f"has a parameter name that is not UTF-8; {_URL_FIX}",
            }
        if not _is_utf8(unquote_to_bytes(value.replace(b"+", b" "))):
            field = raw_name.decode()
            return {
                "field": field,
                "message": f"is not valid UTF-8 once percent-decoded; {_URL_FIX}",
            }
    return None


def invalid_text_in_path(raw_path: bytes) -> Detail | None:
    """The path, if it is not UTF-8 once percent-decoded."""
    if raw_path.isascii() and b"%" not in raw_path:
        return None
    if _is_utf8(unquote_to_bytes(raw_path)):
        return None
    return {"field": "path", "message": f"is not valid UTF-8 once percent-decoded; {_URL_FIX}"}


def _strings(document: Any, *, raw_bytes: bool) -> Iterator[tuple[Path, str]]:
    """(path, problem) for every string (value or key) of `document` that is not valid
    Unicode; `raw_bytes`: the body was not UTF-8, so some lone surrogates stand for bytes."""
    stack: list[tuple[Any, Path]] = [(document, ())]
    while stack:
        value, where = stack.pop()
        if isinstance(value, str):
            if not _encodable(value):
                yield where, f"is not valid Unicode text ({_first_bad(value, raw_bytes)}); {_FIX}"
        elif isinstance(value, dict):
            items = list(value.items())
            for key, item in reversed(items):
                if not _encodable(key):
                    yield (
                        where,
                        f"has a key that is not valid Unicode text "
                        f"({_first_bad(key, raw_bytes)}); {_FIX}",
                    )
                stack.append((item, (*where, key)))
        elif isinstance(value, list):
            stack.extend(
                (item, (*where, index)) for index, item in reversed(list(enumerate(value)))
            )


def _location(path: Path) -> Detail:
    """A path as the API's error details name fields: `events[0].id`."""
    field = ""
    for part in path:
        if isinstance(part, int):
            field += f"[{part}]"
        else:
            name = part if _encodable(part) else part.encode("utf-8", "backslashreplace").decode()
            field += f".{name}" if field else name
    detail: Detail = {"field": field or "body"}
    if len(path) >= 2 and path[0] == "events" and isinstance(path[1], int):
        detail["index"] = path[1]
    return detail


def _encodable(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _first_bad(text: str, raw_bytes: bool) -> str:
    for position, char in enumerate(text):
        code = ord(char)
        if raw_bytes and 0xDC80 <= code <= 0xDCFF:  # a byte kept by surrogateescape
            return f"byte 0x{code - 0xDC00:02x} at character {position} is not UTF-8"
        if 0xD800 <= code <= 0xDFFF:
            return f"a lone surrogate \\u{code:04x} at character {position}"
    return "text that is not UTF-8"


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
