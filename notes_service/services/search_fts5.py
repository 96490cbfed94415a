"""SQLite's search statements (services/search.py runs them): FTS5 sets of rowids, newest first.

Three contentless FTS5 tables hold the live notes, with the author as a token (`a<id>`): `notes_fts`
(title, content) and `notes_title_fts` (titles alone) with the `porter` stemmer, for whole words and
phrases ("quokka" finds "Quokkas"), and `notes_prefix_fts` (title, content) with the words as
written, for `word*` and the word being typed ("runn" finds "running": in a stemmed index
"running" is "run", which "runn" does not start). A query is up to three sets of rowids — its stemmed
terms, its prefix terms, and the word being typed (its stem, or a word it starts: the union of two
sets) — and a note matches when it is in each.

Each half of the order (title matches first, then the rest) reads its first set newest first and
stops after a window (`ORDER BY rowid DESC LIMIT`), the other sets and the tags checked for each
rowid as it comes; the rest half leaves out the notes whose title holds the whole query.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, column, func, literal_column, select, table, union, union_all
from sqlalchemy.sql import Select

from ..data import Read
from ..data.models import Note
from .notes import LIVE, NOTE_COLUMNS
from .rows import SearchHit
from .search_query import MAX_TAGS, SearchQuery
from .tags import tag_params, tagged

NEWEST = 2**63 - 1  # above every id: a page that starts at the newest note
HALVES = ("title", "rest")


class Shape(NamedTuple):
    """Which kinds of terms a query has, and how many tags: one statement per shape."""

    stemmed: bool
    prefixes: bool
    typed: bool
    tags: int

    @classmethod
    def of(cls, query: SearchQuery) -> Shape:
        return cls(
            bool(query.fts5()), bool(query.fts5(stemmed=False)), query.typed is not None, len(query.tags)
        )


def _fts(index: str) -> Any:
    """An FTS5 table under an alias of its own (the same table is read in several subqueries)."""
    return table(index, column("rowid"), column(index)).alias()


def _matching(index: str, param: str) -> Select[Any]:
    fts = _fts(index)
    return select(fts.c.rowid.label("rowid")).where(fts.c[index].op("MATCH")(bindparam(param)))


def _sets(half: str, shape: Shape) -> list[Select[Any]]:
    """The query's sets of rowids for one half, the one to read in order first."""
    stemmed = "notes_title_fts" if half == "title" else "notes_fts"
    sets = []
    if shape.stemmed:
        sets.append(_matching(stemmed, f"{half}_stemmed"))
    if shape.prefixes:
        sets.append(_matching("notes_prefix_fts", f"{half}_prefixes"))
    if shape.typed:
        either = union(
            _matching(stemmed, f"{half}_typed_stem"), _matching("notes_prefix_fts", f"{half}_typed_prefix")
        ).subquery()
        sets.append(select(either.c.rowid))
    return sets


def _checked(rowid: Any) -> Any:
    """`rowid` in a condition checked on each row read, never handed to FTS5: given `rowid IN (…)`
    SQLite would run the whole full-text query once for every rowid of the list (measured: 14 s
    for "sea otter beach walk" over 40,000 notes) and lose the index's newest-first order."""
    return rowid + 0


def _half(half: str, shape: Shape) -> Select[Any]:
    first, *others = _sets(half, shape)
    ordered = first.subquery()
    rowid = ordered.c.rowid
    conditions = [rowid < bindparam(f"{half}_before"), *(_checked(rowid).in_(other) for other in others)]
    conditions += tagged(_checked(rowid), shape.tags)
    if half == "rest":  # not the notes of the title half
        title_first, *title_others = _sets("title", shape)
        title_rowid = _checked(title_first.selected_columns.rowid)
        title = title_first.where(*(title_rowid.in_(other) for other in title_others))
        conditions.append(_checked(rowid).not_in(title))
    newest = select(rowid).where(*conditions).order_by(rowid.desc()).limit(bindparam("window"))
    first_flag = "1" if half == "title" else "0"
    return select(*NOTE_COLUMNS, literal_column(first_flag).label("title_first")).where(
        Note.id.in_(newest), Note.author_id == bindparam("author_id"), LIVE
    )


@lru_cache(maxsize=8 * (MAX_TAGS + 1))
def page(shape: Shape) -> Read[SearchHit]:
    """The read of a page of results of queries of this shape (built once per shape)."""
    halves = union_all(_half("title", shape), _half("rest", shape)).subquery()
    return Read(
        select(halves)
        .order_by(halves.c.title_first.desc(), halves.c.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset")),
        SearchHit,
    )


class MatchCount(NamedTuple):
    matches: int


@lru_cache(maxsize=8 * (MAX_TAGS + 1))
def count(shape: Shape) -> Read[MatchCount]:
    """The read of how many notes match (up to `cap`): the rest half's sets, titles not left out."""
    first, *others = _sets("rest", shape)
    matches = first.subquery()
    rowid = matches.c.rowid
    capped = (
        select(rowid)
        .where(*(_checked(rowid).in_(other) for other in others), *tagged(_checked(rowid), shape.tags))
        .limit(bindparam("cap"))
        .subquery()
    )
    return Read(select(func.count().label("matches")).select_from(capped), MatchCount)


def params(query: SearchQuery, author_id: int, title_before: int, rest_before: int) -> dict[str, Any]:
    """The bound values of `page(Shape.of(query))`."""
    author = f'author : "a{author_id}" AND '
    columns = {"title": "title : (", "rest": "{title content} : ("}
    values: dict[str, Any] = {
        **tag_params(query.tags),
        "title_before": title_before,
        "rest_before": rest_before,
    }
    for half in HALVES:
        where = author + columns[half]
        if stemmed := query.fts5():
            values[f"{half}_stemmed"] = where + stemmed + ")"
        if prefixes := query.fts5(stemmed=False):
            values[f"{half}_prefixes"] = where + prefixes + ")"
        if query.typed is not None:
            values[f"{half}_typed_stem"] = where + query.fts5_typed(stemmed=True) + ")"
            values[f"{half}_typed_prefix"] = where + query.fts5_typed(stemmed=False) + ")"
    return values
