"""Every relative link in the docs leads somewhere: to a file or folder that exists and,
with a `#fragment`, to a heading of that file, named by GitHub's anchor rules."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import REPO

DOCS = sorted(
    [
        REPO / "README.md",
        *REPO.glob("docs/*.md"),
        *REPO.glob("sdk/*/README.md"),
        *REPO.glob("examples/*/README.md"),
    ]
)

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+).+?\1")
# [text](target) and ![alt](target); the target stops at a space (a "title" may follow).
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, ...


def prose_lines(text: str) -> list[tuple[int, str]]:
    """The file's lines outside fenced code blocks, numbered from 1."""
    lines, fence = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if fence is None and match:
            fence = match.group(1)
        elif fence is not None and match and match.group(1).startswith(fence):
            fence = None
        elif fence is None:
            lines.append((number, line))
    return lines


def github_anchor(heading: str) -> str:
    """A heading's anchor as GitHub makes it: links and markup reduced to their text,
    lowercase, punctuation dropped (letters, digits, `_` and `-` stay), spaces to `-`."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = re.sub(r"<[^>]+>", "", text)
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


@cache
def anchors(path: Path) -> frozenset[str]:
    """Every anchor of a markdown file; a repeated heading gets -1, -2, ... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose_lines(path.read_text()):
        match = HEADING.match(line)
        if match is None:
            continue
        anchor = github_anchor(match.group(1))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return frozenset(found)


def relative_links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of each relative link in the file's prose, code spans left out."""
    links = []
    for number, line in prose_lines(path.read_text()):
        for match in LINK.finditer(CODE_SPAN.sub("", line)):
            target = match.group(1)
            if not EXTERNAL.match(target) and not target.startswith("/"):
                links.append((number, target))
    return links


def shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def broken(path: Path, target: str) -> str | None:
    """Why the link `target` in `path` leads nowhere, or None if it resolves."""
    file_part, _, fragment = target.partition("#")
    destination = (path.parent / file_part).resolve() if file_part else path
    if not destination.exists():
        return f"{shown(destination)} does not exist"
    if not fragment:
        return None
    if destination.suffix != ".md":
        return f"#{fragment} points into {destination.name}, which has no headings to name"
    if fragment not in anchors(destination):
        return f"{shown(destination)} has no heading with the anchor #{fragment}"
    return None


@pytest.mark.parametrize("doc", DOCS, ids=lambda doc: str(doc.relative_to(REPO)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(doc: Path) -> None:
    problems = [
        f"{doc.relative_to(REPO)}:{line}: ({target}): {why}"
        for line, target in relative_links(doc)
        if (why := broken(doc, target)) is not None
    ]
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize(
    ("heading", "anchor"),
    [
        ("Conditions (`when:`)", "conditions-when"),
        ("Not nagging: `max_impressions` and `caps`", "not-nagging-max_impressions-and-caps"),
        (
            "HTTP limits, and what a reverse proxy must add",
            "http-limits-and-what-a-reverse-proxy-must-add",
        ),
        ("6. Merge, and confirm it is live", "6-merge-and-confirm-it-is-live"),
        ("Checking rules: `nudge rules check`", "checking-rules-nudge-rules-check"),
        ("Rule tools against the store", "rule-tools-against-the-store"),
        ("The [Python SDK](sdk/python) and *you*", "the-python-sdk-and-you"),
        ("Nudge — in one page", "nudge--in-one-page"),
    ],
)
def test_anchors_follow_githubs_rules(heading: str, anchor: str) -> None:
    assert github_anchor(heading) == anchor


def test_a_link_to_a_missing_heading_is_reported(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Setting up\n\n## Setting up\n\n```sh\n# not a heading\n```\n")
    assert broken(page, "#setting-up") is None
    assert broken(page, "#setting-up-1") is None
    assert broken(page, "#not-a-heading") is not None
    assert broken(page, "other.md") is not None
