"""Notes: always read and written through their author."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, bindparam, delete, func, insert, select, tuple_, update

from ..data import Store, UTCDateTime, utcnow
from ..models import Note
from ..schemas import NoteOut
from ..shapes import columns_of
from .errors import Missing, NotOwner

# Pinned first, then newest first; id breaks ties so every note has one place in the order.
ORDER = (Note.is_pinned.desc(), Note.created_at.desc(), Note.id.desc())
NOTE_COLUMNS = columns_of(NoteOut, Note)


@dataclass(frozen=True)
class Position:
    """Where a page ended in the list order: the last note's sort key."""

    is_pinned: bool
    created_at: datetime
    id: int

    @classmethod
    def of(cls, note: Any) -> Position:
        """The position of a note row."""
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
ONE_NOTE = select(*NOTE_COLUMNS, Note.author_id).where(Note.id == bindparam("id"))


async def summarize_notes(store: Store, *, author_id: int) -> Summary:
    """How many notes the author has, and how many of them are pinned."""
    row = await store.row(SUMMARY, author_id=author_id)
    return Summary(total=row.total, pinned=row.pinned or 0) if row else Summary(0, 0)


async def list_notes(store: Store, *, author_id: int, limit: int, offset: int = 0) -> list[Any]:
    """A numbered page of the author's notes (for the HTML list)."""
    return await store.rows(NUMBERED_PAGE, author_id=author_id, limit=limit, offset=offset)


async def list_notes_after(store: Store, *, author_id: int, after: Position | None, limit: int) -> list[Any]:
    """The author's notes following `after` in list order: a keyset page, cheap at any depth."""
    if after is None:
        return await store.rows(FIRST_PAGE, author_id=author_id, limit=limit)
    return await store.rows(
        NEXT_PAGE,
        author_id=author_id,
        limit=limit,
        pinned=after.is_pinned,
        created=after.created_at,
        id=after.id,
    )


async def get_note(store: Store, *, note_id: int, author_id: int) -> Any:
    """The author's note; Missing when there is none, NotOwner when it is someone else's."""
    note = await store.row(ONE_NOTE, id=note_id)
    if note is None:
        raise Missing(note_id)
    if note.author_id != author_id:
        raise NotOwner(note_id)
    return note


async def create_note(
    store: Store, *, author_id: int, title: str, content: str, is_pinned: bool = False
) -> Any:
    """A new note of the author's; returns its row."""
    result = await store.execute(
        insert(Note)
        .values(author_id=author_id, title=title, content=content, is_pinned=is_pinned)
        .returning(*NOTE_COLUMNS)
    )
    return result.one()


async def update_note(store: Store, *, note_id: int, author_id: int, **changes: Any) -> Any:
    """Change some fields of the author's note (Missing/NotOwner as `get_note`); returns its row."""
    await get_note(store, note_id=note_id, author_id=author_id)
    result = await store.execute(
        update(Note)
        .where(Note.id == note_id, Note.author_id == author_id)
        .values(**changes, updated_at=utcnow())
        .returning(*NOTE_COLUMNS)
    )
    return result.one()


async def delete_note(store: Store, *, note_id: int, author_id: int) -> None:
    """Delete the author's note for good (Missing/NotOwner as `get_note`)."""
    await get_note(store, note_id=note_id, author_id=author_id)
    await store.execute(delete(Note).where(Note.id == note_id, Note.author_id == author_id))
