"""Notes: always read and written through their author."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, bindparam, delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import UTCDateTime, begin_write, utcnow
from ..errors import APIError
from ..models import Note
from ..reader import Reader

# Pinned first, then newest first; id breaks ties so every note has one place in the order.
ORDER = (Note.is_pinned.desc(), Note.created_at.desc(), Note.id.desc())
NOTE_COLUMNS = (Note.id, Note.title, Note.content, Note.is_pinned, Note.created_at, Note.updated_at)


@dataclass(frozen=True)
class Position:
    """Where a page ended in the list order: the last note's sort key."""

    is_pinned: bool
    created_at: datetime
    id: int

    @classmethod
    def of(cls, note: Any) -> Position:
        """The position of a note (a row of `list_notes_after`, or a Note)."""
        return cls(note.is_pinned, note.created_at, note.id)


@dataclass(frozen=True)
class Summary:
    total: int
    pinned: int


SUMMARY = select(
    func.count(Note.id).label("total"),
    func.count(Note.id).filter(Note.is_pinned.is_(True)).label("pinned"),
).where(Note.author_id == bindparam("author_id"))
NUMBERED_PAGE = (
    select(*NOTE_COLUMNS)
    .where(Note.author_id == bindparam("author_id"))
    .order_by(*ORDER)
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)


async def summarize_notes(reader: Reader, *, author_id: int) -> Summary:
    """How many notes the author has, and how many of them are pinned."""
    row = await reader.first(reader.prepared(SUMMARY), author_id=author_id)
    return Summary(total=row.total, pinned=row.pinned or 0)


async def list_notes(reader: Reader, *, author_id: int, limit: int, offset: int = 0) -> list[Any]:
    """A numbered page of the author's notes (for the HTML list)."""
    return await reader.all(reader.prepared(NUMBERED_PAGE), author_id=author_id, limit=limit, offset=offset)


FIRST_PAGE = (
    select(*NOTE_COLUMNS)
    .where(Note.author_id == bindparam("author_id"))
    .order_by(*ORDER)
    .limit(bindparam("limit"))
)
# All three columns sort descending, so "after a note" is "smaller as a tuple".
NEXT_PAGE = FIRST_PAGE.where(
    tuple_(Note.is_pinned, Note.created_at, Note.id)
    < tuple_(bindparam("pinned", type_=Boolean), bindparam("created", type_=UTCDateTime), bindparam("id"))
)


async def list_notes_after(
    reader: Reader, *, author_id: int, after: Position | None, limit: int
) -> list[Any]:
    """The author's notes following `after` in list order: a keyset page, cheap at any depth."""
    if after is None:
        return await reader.all(reader.prepared(FIRST_PAGE), author_id=author_id, limit=limit)
    return await reader.all(
        reader.prepared(NEXT_PAGE),
        author_id=author_id,
        limit=limit,
        pinned=after.is_pinned,
        created=after.created_at,
        id=after.id,
    )


async def get_owned_note(session: AsyncSession, *, note_id: int, author_id: int) -> Note:
    """The note if it is the author's; 404 when it does not exist, 403 when it is someone else's."""
    note = await session.get(Note, note_id, populate_existing=True)
    if note is None:
        raise APIError(404, "Not found")
    if note.author_id != author_id:
        raise APIError(403, "Forbidden")
    return note


async def create_note(
    session: AsyncSession, *, author_id: int, title: str, content: str, is_pinned: bool = False
) -> Note:
    await begin_write(session)
    note = Note(author_id=author_id, title=title, content=content, is_pinned=is_pinned)
    session.add(note)
    await session.flush()
    return note


async def update_note(session: AsyncSession, *, note_id: int, author_id: int, **changes: Any) -> Note:
    """Change some fields of the author's note (404/403 as `get_owned_note`)."""
    await begin_write(session)
    note = await get_owned_note(session, note_id=note_id, author_id=author_id)
    for name, value in changes.items():
        setattr(note, name, value)
    note.updated_at = utcnow()
    await session.flush()
    return note


async def delete_note(session: AsyncSession, *, note_id: int, author_id: int) -> None:
    await begin_write(session)
    await get_owned_note(session, note_id=note_id, author_id=author_id)
    await session.execute(delete(Note).where(Note.id == note_id, Note.author_id == author_id))
