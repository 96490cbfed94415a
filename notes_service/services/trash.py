"""The trash: deleted notes wait here, newest deletion first, until restored or purged.

A trashed note is one with `deleted_at` set; `services/notes.py` leaves such notes out of every
list, count, search and lookup. Restoring and purging find the note by id: none, or a note that is
not in the trash, is Missing (404); another user's trashed note is NotOwner (403). A restore takes
the author's next change number (services/changes.py); a note deleted for good leaves a marker in
its author's change feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, func, select, tuple_, update

from ..data import Read, Store, UTCDateTime, utcnow
from ..data.models import Note
from ..data.rowtypes import columns
from .changes import delete_for_good, next_seq
from .errors import Missing, NotOwner
from .notes import NOTE_COLUMNS
from .rows import NoteRow, TrashedNoteRow

TRASHED = Note.deleted_at.is_not(None)
TRASH_COLUMNS = columns(TrashedNoteRow, Note)
ORDER = (Note.deleted_at.desc(), Note.id.desc())


@dataclass(frozen=True)
class TrashPosition:
    """Where a trash page ended: the last note's deletion time and id."""

    deleted_at: datetime
    id: int


class _Trashed(NamedTuple):
    id: int
    author_id: int
    deleted_at: datetime | None


FIRST_PAGE = Read(
    select(*TRASH_COLUMNS)
    .where(Note.author_id == bindparam("author_id"), TRASHED)
    .order_by(*ORDER)
    .limit(bindparam("limit")),
    TrashedNoteRow,
)
NEXT_PAGE = Read(
    FIRST_PAGE.statement.where(
        tuple_(Note.deleted_at, Note.id) < tuple_(bindparam("deleted", type_=UTCDateTime), bindparam("id"))
    ),
    TrashedNoteRow,
)
COUNT = select(func.count(Note.id)).where(Note.author_id == bindparam("author_id"), TRASHED)
ONE = Read(select(Note.id, Note.author_id, Note.deleted_at).where(Note.id == bindparam("id")), _Trashed)


async def list_trash(
    store: Store, *, author_id: int, after: TrashPosition | None, limit: int
) -> list[TrashedNoteRow]:
    """A page of the author's trash, most recently deleted first (a keyset page)."""
    if after is None:
        return await store.rows(FIRST_PAGE, author_id=author_id, limit=limit)
    return await store.rows(
        NEXT_PAGE, author_id=author_id, limit=limit, deleted=after.deleted_at, id=after.id
    )


async def count_trash(store: Store, *, author_id: int) -> int:
    return int(await store.scalar(COUNT, author_id=author_id) or 0)


async def _trashed(store: Store, *, note_id: int, author_id: int) -> None:
    note = await store.row(ONE, id=note_id)
    if note is None or note.deleted_at is None:
        raise Missing(note_id)
    if note.author_id != author_id:
        raise NotOwner(note_id)


async def restore_note(store: Store, *, note_id: int, author_id: int) -> NoteRow:
    """Take the author's note out of the trash; returns it as the notes service shows it."""
    await _trashed(store, note_id=note_id, author_id=author_id)
    change_seq = await next_seq(store, author_id=author_id)
    result = await store.execute(
        update(Note)
        .where(Note.id == note_id, Note.author_id == author_id, TRASHED)
        .values(deleted_at=None, version=Note.version + 1, updated_at=Note.updated_at, change_seq=change_seq)
        .returning(*NOTE_COLUMNS)
    )
    note = result.one_or_none()
    if note is None:  # restored or purged by a concurrent request in between
        raise Missing(note_id)
    return NoteRow._make(note)


async def purge_note(store: Store, *, note_id: int, author_id: int) -> None:
    """Delete one of the author's trashed notes for good."""
    await _trashed(store, note_id=note_id, author_id=author_id)
    which = (Note.id == note_id) & TRASHED
    if not await delete_for_good(store, author_ids=[author_id], which=which):
        raise Missing(note_id)  # restored or purged by a concurrent request in between


async def empty_trash(store: Store, *, author_id: int) -> int:
    """Delete every note in the author's trash for good; returns how many."""
    if not await count_trash(store, author_id=author_id):
        return 0  # nothing to delete: no lock, no number
    return await delete_for_good(store, author_ids=[author_id], which=TRASHED)


async def purge_expired(store: Store, *, days: int) -> int:
    """Delete for good every note trashed more than `days` ago (any author): the housekeeping job.
    Two workers running it at once do no harm: the second finds nothing left to delete."""
    expired = TRASHED & (Note.deleted_at < utcnow() - timedelta(days=days))
    authors = await store.rows(select(Note.author_id).where(expired).distinct())
    return await delete_for_good(store, author_ids=[row.author_id for row in authors], which=expired)
