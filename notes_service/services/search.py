"""Full-text search of an author's live notes (SPEC §9), on the database's own index.

Order: notes whose title holds the whole query first (`title_first` = 1), then the rest; newest first
within each. "Newest" is the highest id: ids are handed out in creation order and `created_at` never
changes after the insert, so the two orders agree, and the id is what an index can give in order. That
order is a plain keyset, so an API cursor holds (title_first, id) and a deep page costs what the first
does: no score to compute, no offset.

SQLite: FTS5 tables that hold the live notes only, with the author as a token, read newest first
and stopped after a page (services/search_fts5.py). Neither half sorts or reads every match, which
made a common word cost a thousand row reads per page.
PostgreSQL: the GIN index on `DOCUMENT` (stems and words as written, one tsvector), the very
expression of the migration's index, then a sort of the author's matches.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import sqlalchemy.dialects.postgresql  # noqa: F401 - registers to_tsvector/to_tsquery's types (before use)
from sqlalchemy import (
    Integer,
    bindparam,
    case,
    func,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.sql.expression import ColumnClause

from ..data import Read, Store
from ..data.models import Note
from . import search_fts5
from .notes import LIVE, NOTE_COLUMNS
from .rows import SearchHit
from .search_fts5 import NEWEST
from .search_query import MAX_TAGS, SearchQuery
from .tags import tag_params, tagged

# PostgreSQL: must stay the migration's PG_DOCUMENT, constants and all (no bound parameters), or
# the index is not used. Stems (`notes_english`: English, no stop words) for words and phrases, and
# the words as written (`simple`) for prefixes, in one tsvector.
ENGLISH: ColumnClause[Any] = literal_column("'notes_english'::regconfig")
SIMPLE: ColumnClause[Any] = literal_column("'simple'::regconfig")
SPACE: ColumnClause[Any] = literal_column("' '")


def _tsvector(config: ColumnClause[Any], text: Any) -> Any:
    punctuation: ColumnClause[Any] = literal_column("'[[:punct:]]+'")
    globally: ColumnClause[Any] = literal_column("'g'")
    return func.to_tsvector(config, func.regexp_replace(text, punctuation, SPACE, globally))


def _document(text: Any) -> Any:
    return _tsvector(ENGLISH, text).op("||")(_tsvector(SIMPLE, text))


DOCUMENT = _document(Note.title.op("||")(SPACE).op("||")(Note.content))


@dataclass(frozen=True)
class SearchPosition:
    """Where a page of results ended."""

    title_first: int
    id: int

    @classmethod
    def of(cls, row: SearchHit) -> SearchPosition:
        return cls(row.title_first, row.id)


def _fts5_bounds(after: SearchPosition | None) -> tuple[int, int]:
    """Where each half starts: NEWEST for a half the page starts above, 0 for one it is past."""
    if after is None:
        return NEWEST, NEWEST
    return (after.id, NEWEST) if after.title_first else (0, after.id)


# PostgreSQL: the first page, a page after a position, a numbered page, per shape of query.
def _tsquery(shape: search_fts5.Shape) -> Any:
    """The query's tsquery: its stemmed terms, its prefixes, and the word being typed (its stem or
    a prefix), AND-ed (`&&`); each part a bound `to_tsquery` text."""
    parts: list[Any] = []
    if shape.stemmed:
        parts.append(func.to_tsquery(ENGLISH, bindparam("stemmed")))
    if shape.prefixes:
        parts.append(func.to_tsquery(SIMPLE, bindparam("prefixes")))
    if shape.typed:
        stem = func.to_tsquery(ENGLISH, bindparam("typed_stem"))
        parts.append(stem.op("||")(func.to_tsquery(SIMPLE, bindparam("typed_prefix"))).self_group())
    query: Any = parts[0]
    for part in parts[1:]:
        query = query.op("&&")(part)
    return query


class _PostgresPages(NamedTuple):
    first: Read[SearchHit]
    after: Read[SearchHit]
    numbered: Read[SearchHit]


@lru_cache(maxsize=8 * (MAX_TAGS + 1))
def postgres_pages(shape: search_fts5.Shape) -> _PostgresPages:
    """PostgreSQL's reads of results of queries of this shape (built once per shape)."""
    query = _tsquery(shape)
    title_first = case(
        (_document(Note.title).op("@@")(query), literal_column("1")), else_=literal_column("0")
    )
    first = (
        select(*NOTE_COLUMNS, title_first.label("title_first"))
        .where(
            Note.author_id == bindparam("author_id"),
            LIVE,
            DOCUMENT.op("@@")(query),
            *tagged(Note.id, shape.tags),
        )
        .order_by(title_first.desc(), Note.id.desc())
        .limit(bindparam("limit"))
    )
    after = tuple_(title_first, Note.id) < tuple_(bindparam("title_first", type_=Integer), bindparam("id"))
    return _PostgresPages(
        Read(first, SearchHit),
        Read(first.where(after), SearchHit),
        Read(first.offset(bindparam("offset")), SearchHit),
    )


@lru_cache(maxsize=8 * (MAX_TAGS + 1))
def postgres_count(shape: search_fts5.Shape) -> Read[search_fts5.MatchCount]:
    """PostgreSQL's read of how many notes match (up to `cap`)."""
    capped = (
        select(Note.id)
        .where(
            Note.author_id == bindparam("author_id"),
            LIVE,
            DOCUMENT.op("@@")(_tsquery(shape)),
            *tagged(Note.id, shape.tags),
        )
        .limit(bindparam("cap"))
        .subquery()
    )
    return Read(select(func.count().label("matches")).select_from(capped), search_fts5.MatchCount)


def _postgres_params(query: SearchQuery) -> dict[str, Any]:
    """The bound values of `postgres_pages(Shape.of(query))`."""
    values: dict[str, Any] = tag_params(query.tags)
    if stemmed := query.tsquery():
        values["stemmed"] = stemmed
    if prefixes := query.tsquery(stemmed=False):
        values["prefixes"] = prefixes
    if query.typed is not None:
        values["typed_stem"] = query.tsquery_typed(stemmed=True)
        values["typed_prefix"] = query.tsquery_typed(stemmed=False)
    return values


SEARCHES_AT_ONCE = 2  # per user and worker


class _Budget:
    """How many searches each user runs at once in this worker: a user's further searches wait their
    turn, so one person's flood cannot take every read connection from everyone else (issue 20
    item 10: 8 at once made another person's request wait 6 s)."""

    def __init__(self) -> None:
        self._slots: dict[int, asyncio.Semaphore] = {}
        self._holders: dict[int, int] = {}

    @contextlib.asynccontextmanager
    async def turn(self, author_id: int) -> AsyncIterator[None]:
        slots = self._slots.setdefault(author_id, asyncio.Semaphore(SEARCHES_AT_ONCE))
        self._holders[author_id] = self._holders.get(author_id, 0) + 1
        try:
            async with slots:
                yield
        finally:
            self._holders[author_id] -= 1
            if not self._holders[author_id]:  # nobody waits: forget the user
                del self._holders[author_id], self._slots[author_id]


BUDGET = _Budget()


async def search_notes_after(
    store: Store, *, author_id: int, query: SearchQuery, after: SearchPosition | None, limit: int
) -> list[SearchHit]:
    """A keyset page of the author's live notes matching `query` (for the API's cursor)."""
    if query.nothing or not query.terms:
        return []
    search = store.for_dialect(sqlite=_fts5_page_after, postgresql=_postgres_page_after)
    async with BUDGET.turn(author_id):
        return await search(store, author_id=author_id, query=query, after=after, limit=limit)


async def _fts5_page_after(
    store: Store, *, author_id: int, query: SearchQuery, after: SearchPosition | None, limit: int
) -> list[SearchHit]:
    params = search_fts5.params(query, author_id, *_fts5_bounds(after))
    page = search_fts5.page(search_fts5.Shape.of(query))
    return await store.rows(page, **params, author_id=author_id, window=limit, limit=limit, offset=0)


async def _postgres_page_after(
    store: Store, *, author_id: int, query: SearchQuery, after: SearchPosition | None, limit: int
) -> list[SearchHit]:
    params = {"author_id": author_id, "limit": limit, **_postgres_params(query)}
    pages = postgres_pages(search_fts5.Shape.of(query))
    if after is None:
        return await store.rows(pages.first, **params)
    return await store.rows(pages.after, **params, title_first=after.title_first, id=after.id)


async def search_notes(
    store: Store, *, author_id: int, query: SearchQuery, limit: int, offset: int
) -> list[SearchHit]:
    """A numbered page of results (for the HTML list, which numbers its pages)."""
    if query.nothing or not query.terms:
        return []
    search = store.for_dialect(sqlite=_fts5_numbered_page, postgresql=_postgres_numbered_page)
    async with BUDGET.turn(author_id):
        return await search(store, author_id=author_id, query=query, limit=limit, offset=offset)


async def _fts5_numbered_page(
    store: Store, *, author_id: int, query: SearchQuery, limit: int, offset: int
) -> list[SearchHit]:
    params = search_fts5.params(query, author_id, NEWEST, NEWEST)
    page = search_fts5.page(search_fts5.Shape.of(query))
    window = offset + limit
    return await store.rows(page, **params, author_id=author_id, window=window, limit=limit, offset=offset)


async def _postgres_numbered_page(
    store: Store, *, author_id: int, query: SearchQuery, limit: int, offset: int
) -> list[SearchHit]:
    params = {"author_id": author_id, "limit": limit, "offset": offset, **_postgres_params(query)}
    return await store.rows(postgres_pages(search_fts5.Shape.of(query)).numbered, **params)


COUNT_CAP = 1000  # "1,000+" (SPEC §11): counting stops past this many


async def count_matches(store: Store, *, author_id: int, query: SearchQuery, cap: int = COUNT_CAP) -> int:
    """How many of the author's live notes match `query`, counted up to `cap` + 1 (more than `cap`:
    the page says "1,000+"), so a common word costs at most that many index reads."""
    if query.nothing or not query.terms:
        return 0
    async with BUDGET.turn(author_id):
        if store.for_dialect(sqlite=True, postgresql=False):
            every = search_fts5.params(query, author_id, NEWEST, NEWEST)
            params = {name: value for name, value in every.items() if not name.startswith("title_")}
            params["author_id"] = author_id  # the tags' look-up
            read = search_fts5.count(search_fts5.Shape.of(query))
        else:
            params = {"author_id": author_id, **_postgres_params(query)}
            read = postgres_count(search_fts5.Shape.of(query))
        row = await store.row(read, **params, cap=cap + 1)
    return row.matches if row is not None else 0
