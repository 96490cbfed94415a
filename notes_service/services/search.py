"""Full-text search of an author's live notes (SPEC §9), on the database's own index.

SQLite: the FTS5 table `notes_fts` (kept in step by triggers in the write's own transaction); the
author is a token in it (`a<id>`), so the match itself keeps to one author's notes.
PostgreSQL: the GIN index on `DOCUMENT`, the very expression of the migration's index.

Order: notes whose title holds the whole query first (`title_first` = 1), then the rest; newest first
within each, id breaking ties. That order is a plain keyset, so an API cursor holds
(title_first, created_at, id) and a deep page costs what the first does: no offset, no score.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy.dialects.postgresql  # noqa: F401 - registers to_tsvector/to_tsquery's types (before use)
from sqlalchemy import Integer, bindparam, case, column, func, literal_column, select, table, tuple_
from sqlalchemy.sql import Select
from sqlalchemy.sql.expression import ColumnClause

from ..data import Store, UTCDateTime
from ..models import Note
from ..search_query import SearchQuery
from .notes import LIVE, NOTE_COLUMNS

# PostgreSQL: must stay the migration's PG_DOCUMENT, constants and all (no bound parameters), or
# the index is not used.
SIMPLE: ColumnClause[Any] = literal_column("'simple'::regconfig")
SPACE: ColumnClause[Any] = literal_column("' '")


def _tsvector(text: Any) -> Any:
    punctuation: ColumnClause[Any] = literal_column("'[[:punct:]]+'")
    globally: ColumnClause[Any] = literal_column("'g'")
    return func.to_tsvector(SIMPLE, func.regexp_replace(text, punctuation, SPACE, globally))


DOCUMENT = _tsvector(Note.title.op("||")(SPACE).op("||")(Note.content))
TS_QUERY = func.to_tsquery(SIMPLE, bindparam("query"))
notes_fts = table("notes_fts", column("rowid"), column("notes_fts"))


def _fts_ids(parameter: str) -> Any:
    return select(notes_fts.c.rowid).where(notes_fts.c.notes_fts.op("MATCH")(bindparam(parameter)))


@dataclass(frozen=True)
class SearchPosition:
    """Where a page of results ended."""

    title_first: int
    created_at: datetime
    id: int

    @classmethod
    def of(cls, row: Any) -> SearchPosition:
        return cls(row.title_first, row.created_at, row.id)


def _pages(matches: Any, title_matches: Any) -> tuple[Select[Any], Select[Any], Select[Any]]:
    title_first = case((title_matches, literal_column("1")), else_=literal_column("0"))
    first = (
        select(*NOTE_COLUMNS, title_first.label("title_first"))
        .where(Note.author_id == bindparam("author_id"), LIVE, matches)
        .order_by(title_first.desc(), Note.created_at.desc(), Note.id.desc())
        .limit(bindparam("limit"))
    )
    after = first.where(
        tuple_(title_first, Note.created_at, Note.id)
        < tuple_(
            bindparam("title_first", type_=Integer), bindparam("created", type_=UTCDateTime), bindparam("id")
        )
    )
    numbered = first.offset(bindparam("offset"))
    return first, after, numbered


SQLITE = _pages(Note.id.in_(_fts_ids("query")), Note.id.in_(_fts_ids("title_query")))
POSTGRES = _pages(DOCUMENT.op("@@")(TS_QUERY), _tsvector(Note.title).op("@@")(TS_QUERY))


def _statements(store: Store) -> tuple[Select[Any], Select[Any], Select[Any]]:
    return SQLITE if store.database.engine.dialect.name == "sqlite" else POSTGRES


def _params(store: Store, query: SearchQuery, author_id: int) -> dict[str, Any]:
    if store.database.engine.dialect.name == "sqlite":
        author = f'author : "a{author_id}" AND '
        return {
            "query": author + "{title content} : (" + query.fts5() + ")",
            "title_query": author + query.fts5_title(),
        }
    return {"query": query.tsquery()}


async def search_notes_after(
    store: Store, *, author_id: int, query: SearchQuery, after: SearchPosition | None, limit: int
) -> list[Any]:
    """A keyset page of the author's live notes matching `query` (for the API's cursor)."""
    first, following, _ = _statements(store)
    params = {**_params(store, query, author_id), "author_id": author_id, "limit": limit}
    if after is None:
        return await store.rows(first, **params)
    return await store.rows(
        following, **params, title_first=after.title_first, created=after.created_at, id=after.id
    )


async def search_notes(
    store: Store, *, author_id: int, query: SearchQuery, limit: int, offset: int
) -> list[Any]:
    """A numbered page of results (for the HTML list, which numbers its pages)."""
    _, _, numbered = _statements(store)
    params = _params(store, query, author_id)
    return await store.rows(numbered, **params, author_id=author_id, limit=limit, offset=offset)
