"""Full-text search of an author's live notes (SPEC §9), on the database's own index.

Order: notes whose title holds the whole query first (`title_first` = 1), then the rest; newest first
within each. "Newest" is the highest id: ids are handed out in creation order and `created_at` never
changes after the insert, so the two orders agree, and the id is what an index can give in order. That
order is a plain keyset, so an API cursor holds (title_first, id) and a deep page costs what the first
does: no score to compute, no offset.

SQLite: the FTS5 tables `notes_fts` (title and content) and `notes_title_fts` (titles alone) hold the
live notes only (triggers keep them in step in the write's own transaction; trashing takes a note
out), with the author as a token (`a<id>`), so a match keeps to one author's live notes by itself.
Each half of the order is one FTS5 query that reads its rowids newest first and stops after a page
(`ORDER BY rowid DESC LIMIT`): the title matches from `notes_title_fts`, then from `notes_fts` the
matches whose title does not hold the query (`NOT`). Neither sorts or reads every match, which made
a common word cost a thousand row reads per page.
PostgreSQL: the GIN index on `DOCUMENT`, the very expression of the migration's index, then a sort of
the author's matches.
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
    column,
    func,
    literal_column,
    select,
    table,
    tuple_,
    union_all,
)
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import ColumnClause

from ..data import Read, Store
from ..data.models import Note
from .notes import LIVE, NOTE_COLUMNS
from .rows import SearchHit
from .search_query import MAX_TAGS, SearchQuery
from .tags import tag_params, tagged

NEWEST = 2**63 - 1  # above every id: a page that starts at the newest note

# PostgreSQL: must stay the migration's PG_DOCUMENT, constants and all (no bound parameters), or
# the index is not used.
SIMPLE: ColumnClause[Any] = literal_column("'simple'::regconfig")
SPACE: ColumnClause[Any] = literal_column("' '")


def _tsvector(text: Any) -> Any:
    punctuation: ColumnClause[Any] = literal_column("'[[:punct:]]+'")
    globally: ColumnClause[Any] = literal_column("'g'")
    return func.to_tsvector(SIMPLE, func.regexp_replace(text, punctuation, SPACE, globally))


DOCUMENT = _tsvector(Note.title.op("||")(SPACE).op("||")(Note.content))


@dataclass(frozen=True)
class SearchPosition:
    """Where a page of results ended."""

    title_first: int
    id: int

    @classmethod
    def of(cls, row: SearchHit) -> SearchPosition:
        return cls(row.title_first, row.id)


# SQLite: one statement for every page. Each half takes the `window` newest matches below its bound
# (`title_before`, `rest_before`: NEWEST for a half the page starts above, 0 for one it is past),
# with the query's tags (SPEC §11) checked inside, so the window holds only notes that qualify.
def _fts5_half(title_first: str, index: str, match: str, before: str, tags: int) -> Select[Any]:
    fts = table(index, column("rowid"), column(index))
    newest_matches = (
        select(fts.c.rowid)
        .where(
            fts.c[index].op("MATCH")(bindparam(match)),
            fts.c.rowid < bindparam(before),
            *tagged(fts.c.rowid, tags),
        )
        .order_by(fts.c.rowid.desc())
        .limit(bindparam("window"))
    )
    return select(*NOTE_COLUMNS, literal_column(title_first).label("title_first")).where(
        Note.id.in_(newest_matches), Note.author_id == bindparam("author_id"), LIVE
    )


@lru_cache(maxsize=MAX_TAGS + 1)
def sqlite_page(tags: int) -> Read[SearchHit]:
    """The SQLite read of a page of results that have `tags` tags (built once per count)."""
    halves = union_all(
        _fts5_half("1", "notes_title_fts", "title_query", "title_before", tags),
        _fts5_half("0", "notes_fts", "rest_query", "rest_before", tags),
    ).subquery()
    return Read(
        select(halves)
        .order_by(halves.c.title_first.desc(), halves.c.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset")),
        SearchHit,
    )


def _fts5_params(query: SearchQuery, author_id: int, after: SearchPosition | None) -> dict[str, Any]:
    author = f'author : "a{author_id}" AND '
    title_before, rest_before = NEWEST, NEWEST
    if after is not None:
        title_before, rest_before = (after.id, NEWEST) if after.title_first else (0, after.id)
    return {
        **tag_params(query.tags),
        "title_query": author + "title : (" + query.fts5() + ")",
        "rest_query": author + "({title content} : (" + query.fts5() + ") NOT " + query.fts5_title() + ")",
        "title_before": title_before,
        "rest_before": rest_before,
    }


# PostgreSQL: the first page, a page after a position, a numbered page.
_title_first = case(
    (_tsvector(Note.title).op("@@")(func.to_tsquery(SIMPLE, bindparam("query"))), literal_column("1")),
    else_=literal_column("0"),
)


class _PostgresPages(NamedTuple):
    first: Read[SearchHit]
    after: Read[SearchHit]
    numbered: Read[SearchHit]


@lru_cache(maxsize=MAX_TAGS + 1)
def postgres_pages(tags: int) -> _PostgresPages:
    """PostgreSQL's reads of results that have `tags` tags (built once per count)."""
    first = (
        select(*NOTE_COLUMNS, _title_first.label("title_first"))
        .where(
            Note.author_id == bindparam("author_id"),
            LIVE,
            DOCUMENT.op("@@")(func.to_tsquery(SIMPLE, bindparam("query"))),
            *tagged(Note.id, tags),
        )
        .order_by(_title_first.desc(), Note.id.desc())
        .limit(bindparam("limit"))
    )
    after = tuple_(_title_first, Note.id) < tuple_(bindparam("title_first", type_=Integer), bindparam("id"))
    return _PostgresPages(
        Read(first, SearchHit),
        Read(first.where(after), SearchHit),
        Read(first.offset(bindparam("offset")), SearchHit),
    )


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
    params = _fts5_params(query, author_id, after)
    page = sqlite_page(len(query.tags))
    return await store.rows(page, **params, author_id=author_id, window=limit, limit=limit, offset=0)


async def _postgres_page_after(
    store: Store, *, author_id: int, query: SearchQuery, after: SearchPosition | None, limit: int
) -> list[SearchHit]:
    params = {"query": query.tsquery(), "author_id": author_id, "limit": limit, **tag_params(query.tags)}
    pages = postgres_pages(len(query.tags))
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
    params = _fts5_params(query, author_id, None)
    window = offset + limit
    return await store.rows(
        sqlite_page(len(query.tags)), **params, author_id=author_id, window=window, limit=limit, offset=offset
    )


async def _postgres_numbered_page(
    store: Store, *, author_id: int, query: SearchQuery, limit: int, offset: int
) -> list[SearchHit]:
    params = {"query": query.tsquery(), "author_id": author_id, "limit": limit, "offset": offset}
    return await store.rows(postgres_pages(len(query.tags)).numbered, **params, **tag_params(query.tags))
