"""What a person types into the search box, as a query no engine can choke on (SPEC §9).

- words are AND-ed, case-insensitively, and match their other forms ("quokka" finds "Quokkas", "run"
  finds "running": stemmed indexes, SPEC §11); no word is ignored (no stop words);
- `word*` matches every word that starts with `word`;
- the word being typed (the last one, with nothing after it, not even a blank) matches its other forms
  or any word it starts ("runn" finds "running"): results can follow a person's typing;
- `"two words"` matches the words next to each other, in that order;
- `tag:x` keeps to the notes with the tag `x` (SPEC §11): a filter, not a word; it runs to the next
  blank, and one that is no valid tag (`tag:`, `tag:a.b`) matches nothing;
- every other character (punctuation, operators, an unmatched quote, a lone `*`) is a space.

A word is a run of Unicode letters and digits, the same runs the indexes store on both engines (FTS5's
unicode61 tokenizer; PostgreSQL's index replaces punctuation with spaces first, see the migration).
The engine queries are built only from such words, each one quoted, so no input can form an
operator, a column filter or a syntax error: the Hypothesis test feeds it anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..rules import normal_tag, tag_problem

MAX_TERMS = 16  # a query's cost grows with its terms; past this many, the rest are ignored
# A prefix term reads every indexed word it starts: `a*` most of the index. Shorter prefixes are
# searched as words, and past `MAX_PREFIXES` prefix terms the rest are words too (issue 20 item 10:
# `a* b* … p*` took 1.2 s over 200,000 notes of another user, one word 19 ms).
MIN_PREFIX = 2
MAX_PREFIXES = 4
MAX_TAGS = 4  # tag filters past this many are ignored, as terms past MAX_TERMS are
WORD = re.compile(r"[^\W_]+")
# `tag:x` (not inside a word), a quoted phrase, or a word with an optional `*` straight after it.
TOKEN = re.compile(r'(?<![^\W_])tag:(\S*)|"([^"]*)"|([^\W_]+)(\*?)')


@dataclass(frozen=True)
class Term:
    """One condition: a word, a prefix (`prefix=True`), a phrase (several words), or the word being
    typed (`typed=True`: its forms, or a word it starts)."""

    words: tuple[str, ...]
    prefix: bool = False
    typed: bool = False

    @property
    def stemmed(self) -> bool:
        """Matched among the stems (a word or a phrase), not among the words as written."""
        return not (self.prefix or self.typed)


@dataclass(frozen=True)
class SearchQuery:
    """The words to match (`terms`), the tags a note must have (`tags`, kept lowercase), and whether
    a malformed `tag:` made it match nothing at all (`nothing`)."""

    terms: tuple[Term, ...]
    tags: tuple[str, ...] = ()
    nothing: bool = False

    def __bool__(self) -> bool:
        """Whether it asks for anything (else: the plain list)."""
        return bool(self.terms or self.tags or self.nothing)

    def with_tag(self, tag: str | None) -> SearchQuery:
        """This query, also keeping to `tag` (the `?tag=` of a list or a search)."""
        if tag is None:
            return self
        if tag_problem(tag) is not None:
            return SearchQuery(self.terms, self.tags, nothing=True)
        tags = tuple(dict.fromkeys((*self.tags, normal_tag(tag))))[:MAX_TAGS]
        return SearchQuery(self.terms, tags, self.nothing)

    @property
    def words(self) -> list[str]:
        """Every word, for highlighting an excerpt."""
        return [word for term in self.terms for word in term.words]

    @property
    def typed(self) -> Term | None:
        """The word being typed, if it is one of the terms."""
        return next((term for term in self.terms if term.typed), None)

    def fts5(self, stemmed: bool = True) -> str:
        """The SQLite FTS5 query of the terms matched among stems (`stemmed`) or among the words as
        written (the prefixes): each term quoted, all AND-ed; "" when there are none."""
        kind = [term for term in self.terms if term.stemmed == stemmed and not term.typed]
        return " AND ".join(_fts5_term(term) for term in kind)

    def fts5_typed(self, stemmed: bool) -> str:
        """The word being typed as an FTS5 query: itself among the stems, or a prefix."""
        typed = self.typed
        assert typed is not None
        return _fts5_term(Term(typed.words, prefix=not stemmed))

    def tsquery(self, stemmed: bool = True) -> str:
        """The PostgreSQL `to_tsquery` text of the terms matched among stems (`stemmed`) or among
        the words as written: quoted lexemes, `:*` prefixes, `<->` phrases, `&`; "" when none."""
        kind = [term for term in self.terms if term.stemmed == stemmed and not term.typed]
        return " & ".join(_tsquery_term(term) for term in kind)

    def tsquery_typed(self, stemmed: bool) -> str:
        """The word being typed as `to_tsquery` text: itself (stemmed), or a prefix."""
        typed = self.typed
        assert typed is not None
        return _tsquery_term(Term(typed.words, prefix=not stemmed))


def _fts5_term(term: Term) -> str:
    quoted = '"' + " ".join(term.words) + '"'
    return quoted + "*" if term.prefix else quoted


def _tsquery_term(term: Term) -> str:
    lexemes = [f"'{word}'" for word in term.words]
    if term.prefix:
        lexemes[-1] += ":*"
    return lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")"


def parse(text: str) -> SearchQuery:
    """The query `text` asks for; an empty one when it holds no word (the plain list)."""
    terms: list[Term] = []
    tags: list[str] = []
    nothing = False
    typing = None  # the last word, when nothing follows it
    for match in TOKEN.finditer(text.lower()):
        tag, phrase, word, star = match.groups()
        if tag is not None:
            nothing = nothing or tag_problem(tag) is not None
            tags.append(normal_tag(tag))
        elif phrase is not None:
            words = tuple(WORD.findall(phrase))
            if words:
                terms.append(Term(words))
        else:
            prefixes = sum(term.prefix for term in terms)
            prefix = bool(star) and len(word) >= MIN_PREFIX and prefixes < MAX_PREFIXES
            terms.append(Term((word,), prefix=prefix))
            typing = len(terms) - 1 if not star and match.end() == len(text) else None
            continue
        typing = None
    # A prefix lookup like `word*`, so bounded like one (issue 20 item 10).
    if typing is not None and len(terms[typing].words[0]) >= MIN_PREFIX and typing < MAX_TERMS:
        if sum(term.prefix for term in terms[:MAX_TERMS]) < MAX_PREFIXES:
            terms[typing] = Term(terms[typing].words, typed=True)
    unique = tuple(dict.fromkeys(terms))  # the same term twice asks nothing more
    return SearchQuery(unique[:MAX_TERMS], tuple(dict.fromkeys(tags))[:MAX_TAGS], nothing)
