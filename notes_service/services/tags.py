"""Tags (SPEC §11): an author's live notes with a tag, in list order, and the author's tags with
how many live notes carry each.

A note's tags are shown from its own `notes.tags`; these reads go through `note_tags`, keyed
(author_id, tag, note_id), so a tag's notes are found without reading other notes (the trash is
filtered on the note: a trashed note keeps its tags for when it is restored). Tags are kept
lowercase (`rules.normal_tags`); callers hand in tags made so the same way (`search_query`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import Boolean, ColumnElement, bindparam, func, select, tuple_

from ..data import Read, Store, UTCDateTime
from ..data.models import Note, NoteTag
from .notes import LIVE, NOTE_COLUMNS, ORDER, Position
from .rows import NoteRow
from .search_query import MAX_TAGS

TAG_LIST_MAX = 200  # tags shown beside the list: the most used first


class TagCount(NamedTuple):
    """One of an author's tags and how many of their live notes have it."""

    tag: str
    notes: int


def tagged(note_id: Any, count: int) -> list[ColumnElement[bool]]:
    """The conditions "note `note_id` has each of the tags `tag0`…" (bound parameters, with the
    author's id as `author_id`): one indexed look-up in `note_tags` each."""
    return [
        note_id.in_(
            select(NoteTag.note_id).where(
                NoteTag.author_id == bindparam("author_id"), NoteTag.tag == bindparam(f"tag{number}")
            )
        )
        for number in range(count)
    ]


def tag_params(tags: Sequence[str]) -> dict[str, str]:
    """The bound values of `tagged`'s conditions."""
    return {f"tag{number}": tag for number, tag in enumerate(tags)}


class _Pages(NamedTuple):
    first: Read[NoteRow]
    next: Read[NoteRow]
    numbered: Read[NoteRow]


@lru_cache(maxsize=MAX_TAGS)
def _pages(count: int) -> _Pages:
    """The list's reads for notes with `count` tags: built once per count (a statement made per
    call costs more to build than to run, and the compiled cache keeps each read once)."""
    statement = (
        select(*NOTE_COLUMNS)
        .where(Note.author_id == bindparam("author_id"), LIVE, *tagged(Note.id, count))
        .order_by(*ORDER)
        .limit(bindparam("limit"))
    )
    after = tuple_(Note.is_pinned, Note.created_at, Note.id) < tuple_(
        bindparam("pinned", type_=Boolean), bindparam("created", type_=UTCDateTime), bindparam("id")
    )
    return _Pages(
        Read(statement, NoteRow),
        Read(statement.where(after), NoteRow),
        Read(statement.offset(bindparam("offset")), NoteRow),
    )


COUNTS = Read(
    select(NoteTag.tag, func.count().label("notes"))
    .join(Note, Note.id == NoteTag.note_id)
    .where(NoteTag.author_id == bindparam("author_id"), LIVE)
    .group_by(NoteTag.tag)
    .order_by(func.count().desc(), NoteTag.tag)
    .limit(bindparam("limit")),
    TagCount,
)


async def list_tagged_after(
    store: Store, *, author_id: int, tags: Sequence[str], after: Position | None, limit: int
) -> list[NoteRow]:
    """The author's live notes with every one of `tags` (kept lowercase: `rules.normal_tag`), after
    `after` in list order: a keyset page, cheap at any depth."""
    pages = _pages(len(tags))
    params = {"author_id": author_id, "limit": limit, **tag_params(tags)}
    if after is None:
        return await store.rows(pages.first, **params)
    return await store.rows(
        pages.next, **params, pinned=after.is_pinned, created=after.created_at, id=after.id
    )


async def list_tagged(
    store: Store, *, author_id: int, tags: Sequence[str], limit: int, offset: int
) -> list[NoteRow]:
    """A numbered page of the author's live notes with every one of `tags` (for the HTML list)."""
    params = tag_params(tags)
    return await store.rows(
        _pages(len(tags)).numbered, author_id=author_id, limit=limit, offset=offset, **params
    )


async def count_tags(store: Store, *, author_id: int, limit: int = TAG_LIST_MAX) -> list[TagCount]:
    """The author's tags on live notes, the most used first (then by name), with their counts."""
    return await store.rows(COUNTS, author_id=author_id, limit=limit)
