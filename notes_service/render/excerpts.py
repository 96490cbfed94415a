"""A short piece of a note around the first word a search matched, for the results page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..services.search_query import SearchQuery


@dataclass(frozen=True)
class Excerpt:
    """A short piece of a note around the first match: before, the matched word, after (plain text,
    escaped by the template like all user text)."""

    before: str
    match: str
    after: str


def excerpt(text: str, query: SearchQuery, width: int = 200) -> Excerpt:
    """About `width` characters of `text` around the first word of `query` found in it (the
    start of the text when none is: the match was in the title)."""
    flat = " ".join(text.split())
    words = sorted(set(query.words), key=len, reverse=True)
    found = None
    if words:
        pattern = re.compile(
            r"(?<![^\W_])(?:" + "|".join(re.escape(word) for word in words) + ")", re.IGNORECASE
        )
        found = pattern.search(flat)
    if found is None:
        return Excerpt(flat[:width] + ("…" if len(flat) > width else ""), "", "")
    start = max(found.start() - width // 3, 0)
    end = min(start + width, len(flat))
    return Excerpt(
        ("…" if start > 0 else "") + flat[start : found.start()],
        flat[found.start() : found.end()],
        flat[found.end() : end] + ("…" if end < len(flat) else ""),
    )
