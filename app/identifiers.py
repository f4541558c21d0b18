"""Account and user ids: 1-128 characters of A-Z a-z 0-9 . _ @ + -.

Ids become parts of Redis keys; this alphabet keeps one id from reaching into
another's keys (no `{`, `}` or `:`).
"""

from __future__ import annotations

import re

ID_REGEX = r"^[A-Za-z0-9._@+-]{1,128}$"
ID_PATTERN = re.compile(ID_REGEX)
ID_RULE = "1-128 characters of A-Z a-z 0-9 . _ @ + -"


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and ID_PATTERN.match(value) is not None
