"""Search results' text with every matched word marked: a short excerpt of a note around its first
match, and its title (SPEC §11).

A word is marked when the search would match it: the same stem as a word or a phrase's word of the
query ("quokka" marks "Quokkas"), the start of it for a `word*` prefix, either for the word being
typed. Words are runs of Unicode letters and digits, as in the indexes. The text is plain (previews'
`plain_text`: no Markdown marks); the template escapes it like all user text.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from ..services.search_query import SearchQuery
from .stems import stems

WORD = re.compile(r"[^\W_]+")
WORD_START = re.compile(r"(?<![^\W_])[^\W_]")  # the first letter of a word (lookbehind sees before `pos`)
# Porter's stemmer only rewrites a word's end: what it keeps of a word is the stem but for its last
# letter at most ("happy" -> "happi", "hoping" -> "hope"), so only words that start with all but
# the last letter of a stem of the query are stemmed. A note's first CANDIDATES_MAX such words are
# looked at, no more (a 100,000-character note of words all starting "ru" costs what 2,048 do).
STEM_CHANGE = 1
CANDIDATES_MAX = 2048


@dataclass(frozen=True)
class Excerpt:
    """Text in pieces, each marked (a match) or not; `…` where it was cut."""

    pieces: tuple[tuple[str, bool], ...]

    @property
    def text(self) -> str:
        return "".join(piece for piece, _ in self.pieces)

    @property
    def marked(self) -> list[str]:
        return [piece for piece, marked in self.pieces if marked]


class Matcher:
    """Which words of a text a query matches. A regular expression finds the candidates (words that
    start like a stem or a prefix of the query) at C speed; only those are stemmed, a batch at a
    time, so a long note costs about what its candidates do."""

    BATCH = 256

    def __init__(self, query: SearchQuery) -> None:
        whole = [word for term in query.terms if term.stemmed or term.typed for word in term.words]
        self.stems = set(stems(whole).values())
        self.prefixes = tuple(term.words[0] for term in query.terms if term.prefix or term.typed)
        starts = {stem[: max(len(stem) - STEM_CHANGE, 1)] for stem in self.stems} | set(self.prefixes)
        alternatives = "|".join(re.escape(start) for start in sorted(starts, key=len, reverse=True))
        self.candidates = re.compile(r"(?<![^\W_])(?:" + alternatives + r")[^\W_]*", re.IGNORECASE)

    def _matches(self, found: list[re.Match[str]]) -> list[tuple[int, int]]:
        stemmed = stems(match.group() for match in found) if self.stems else {}
        spans = []
        for match in found:
            word = match.group().lower()
            if stemmed.get(word) in self.stems or (self.prefixes and word.startswith(self.prefixes)):
                spans.append(match.span())
        return spans

    def spans(self, text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
        """Where the matched words of `text[start:end]` are, in order (of its first CANDIDATES_MAX
        candidates: an excerpt's or a title's are far fewer)."""
        if not self.stems and not self.prefixes:
            return []
        found = self.candidates.finditer(text, start, len(text) if end is None else end)
        return self._matches(list(itertools.islice(found, CANDIDATES_MAX)))

    def first(self, text: str) -> tuple[int, int] | None:
        """Where the first matched word of `text` is, if any."""
        if not self.stems and not self.prefixes:
            return None
        batch: list[re.Match[str]] = []
        for seen, match in enumerate(self.candidates.finditer(text)):
            if seen == CANDIDATES_MAX:
                break
            batch.append(match)
            if len(batch) == self.BATCH:
                if spans := self._matches(batch):
                    return spans[0]
                batch = []
        spans = self._matches(batch)
        return spans[0] if spans else None


def _pieces(text: str, spans: list[tuple[int, int]], start: int, end: int) -> tuple[tuple[str, bool], ...]:
    pieces: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    at = start
    for low, high in spans:
        if low < start or high > end:
            continue
        if low > at:
            pieces.append((text[at:low], False))
        pieces.append((text[low:high], True))
        at = high
    if at < end:
        pieces.append((text[at:end], False))
    if end < len(text):
        pieces.append(("…", False))
    return tuple(pieces)


def excerpt(text: str, query: SearchQuery | Matcher, width: int = 200) -> Excerpt:
    """About `width` characters of `text` around its first matched word, every matched word in it
    marked (the start of the text when none is: the match was in the title)."""
    matcher = query if isinstance(query, Matcher) else Matcher(query)
    flat = " ".join(text.split())
    first = matcher.first(flat)
    if first is None:
        return Excerpt(_pieces(flat, [], 0, min(width, len(flat))))
    start = max(first[0] - width // 3, 0)
    if start:  # begin at a word
        start = min(next((match.start() for match in WORD_START.finditer(flat, start)), first[0]), first[0])
    end = min(start + width, len(flat))
    if end < len(flat):  # end after a word
        end = next((match.end() for match in WORD.finditer(flat, end - 1)), end)
    return Excerpt(_pieces(flat, matcher.spans(flat, start, end), start, end))


def marked_title(title: str, matcher: Matcher) -> Excerpt:
    """A whole title, its matched words marked."""
    return Excerpt(_pieces(title, matcher.spans(title), 0, len(title)))
