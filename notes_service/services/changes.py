"""The change feed (SPEC §10): what changed in a user's notes after a point, oldest change first.

Every write to a note takes the next number of its author (`next_seq`) in the write block that
makes it and stores it on the note (`notes.change_seq`); a note deleted for good leaves a marker
with a number of its own (`note_tombstones`). A reader asks for what has a number above the last it
saw (`read_changes`): each note once, at its latest number.

Why nothing is skipped: a number is taken by `UPDATE users SET change_seq = change_seq + n …
RETURNING`, which on PostgreSQL holds the user's row lock until the block commits, so k+1 is only
taken once the block holding k has committed or rolled back, and a snapshot that shows k+1 shows k.
SQLite's write blocks are serial. A reader reads notes, markers and the user's counters in ONE
statement, so all come from one snapshot (two reads could miss a note in the first and send a later
marker from the second, and the cursor would pass the note). Every writer of a user's notes takes the
user's row before any note row, so writers never wait on each other in a cycle.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Update,
    bindparam,
    case,
    cast,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    null,
    select,
    true,
    union_all,
    update,
)

from ..data import Read, Store, UTCDateTime, generic_plan, utcnow
from ..data.models import Note, NoteTombstone, User
from ..data.rowtypes import columns, fields_of
from .errors import CursorExpired
from .rows import ChangedNoteRow, DeletedNoteRow

# A full sync sends no marker: markers only above a number no user reaches.
NO_MARKERS = 2**62


class Since(NamedTuple):
    """Where a reader is in a user's feed: every change up to `seq` seen. `markers_after` is set
    while a full sync is read in pages: the markers of notes deleted before it began (numbers up to
    the user's count when it began) are none of the reader's business; after it, only notes."""

    seq: int
    markers_after: int = 0


class ChangesPage(NamedTuple):
    """A page of the feed: the changes, oldest first; where the next page starts; whether one does."""

    changes: list[ChangedNoteRow | DeletedNoteRow]
    next: Since
    more: bool

    @property
    def last_seq(self) -> int:
        return self.next.seq


class Counters(NamedTuple):
    """A user's feed counters: the last number taken, and the highest of a purged marker."""

    change_seq: int
    purged_seq: int


def check_place(after: Since, counters: Counters) -> None:
    """`CursorExpired` when a marker the reader has not seen was purged, or `after` is past the
    author's count (only after the database was restored from a backup)."""
    if after.seq > counters.change_seq or counters.purged_seq > max(after.seq, after.markers_after):
        raise CursorExpired(after.seq)


class _Change(NamedTuple):
    """A row of `CHANGES`: the user's counters, then a change (all null when there is none)."""

    user_seq: int
    purged_seq: int
    id: int | None
    title: str | None
    content: str | None
    is_pinned: bool | None
    created_at: datetime | None
    updated_at: datetime | None
    version: int | None
    tags: list[str] | None
    deleted_at: datetime | None
    change_seq: int | None
    deleted: bool | None


_NOTE_FIELDS = columns(ChangedNoteRow, Note)
_NOTES = (
    select(*_NOTE_FIELDS, false().label("deleted"))
    .where(Note.author_id == bindparam("author_id"), Note.change_seq > bindparam("after"))
    .order_by(Note.change_seq)
    .limit(bindparam("limit"))
    .subquery("changed")
)
# Typed nulls: PostgreSQL makes an untyped NULL of a subquery text, which no UNION matches with a bool.
_MARKERS = (
    select(
        NoteTombstone.note_id.label("id"),
        *(cast(null(), column.type).label(column.key) for column in _NOTE_FIELDS[1:-1]),
        NoteTombstone.change_seq,
        true().label("deleted"),
    )
    .where(
        NoteTombstone.author_id == bindparam("author_id"),
        NoteTombstone.change_seq > bindparam("markers_after"),
    )
    .order_by(NoteTombstone.change_seq)
    .limit(bindparam("limit"))
    .subquery("marked")
)
_BOTH = union_all(select(*_NOTES.c), select(*_MARKERS.c)).subquery("changes")
CHANGES = Read(
    generic_plan(
        select(User.change_seq.label("user_seq"), User.tombstones_purged_seq.label("purged_seq"), *_BOTH.c)
        .select_from(User)
        .outerjoin(_BOTH, true())
        .where(User.id == bindparam("author_id"))
        .order_by(_BOTH.c.change_seq)
    ),
    _Change,
)
# `row[2:12]` of a `_Change` is a `ChangedNoteRow` (read_changes).
assert fields_of(_Change)[2:12] == fields_of(ChangedNoteRow)


async def read_changes(
    store: Store, *, author_id: int, after: Since | None, limit: int, counters: Counters | None = None
) -> ChangesPage:
    """Up to `limit` changes of the author's notes after `after`, oldest first; None: every note
    the author has (trashed ones too) and no marker, a full sync. `CursorExpired` as `check_place`.
    `counters`, the author's as just read (with the token: changes_poll.py): when they say that
    nothing is new, nothing more is read."""
    if after is not None and counters is not None:
        check_place(after, counters)
        if after.seq == counters.change_seq:
            return ChangesPage([], Since(after.seq), False)
    since = after or Since(-1, NO_MARKERS)
    rows = await store.rows(
        CHANGES,
        author_id=author_id,
        after=since.seq,
        markers_after=max(since.seq, since.markers_after),
        limit=limit + 1,
    )
    if not rows:  # the account is gone
        return ChangesPage([], after or Since(0), False)
    head = rows[0]
    if after is not None:
        check_place(after, Counters(head.user_seq, head.purged_seq))
    found = [row for row in rows if row.change_seq is not None]
    page = found[:limit]
    changes: list[ChangedNoteRow | DeletedNoteRow] = [
        DeletedNoteRow._make((row.id, row.change_seq)) if row.deleted else ChangedNoteRow._make(row[2:12])
        for row in page
    ]
    if len(found) <= limit:  # all of it: the reader has seen every number the author has taken
        return ChangesPage(changes, Since(head.user_seq), False)
    last = changes[-1].change_seq
    floor = head.user_seq if after is None else after.markers_after
    return ChangesPage(changes, Since(last, floor if floor > last else 0), True)


def _take_numbers(count: ColumnElement[int]) -> Update:
    return (
        update(User)
        .where(User.id == bindparam("author_id"))
        .values(change_seq=User.change_seq + count)
        .returning(User.change_seq)
    )


NEXT_SEQ = _take_numbers(bindparam("count"))


async def next_seq(store: Store, *, author_id: int, count: int = 1) -> int:
    """Take the author's next `count` change numbers in the open write block; returns the last. On
    PostgreSQL this holds the author's row until the block ends (see the module docstring): take
    it before touching any of the author's notes."""
    store.changed(author_id)
    result = await store.execute(NEXT_SEQ, author_id=author_id, count=count)
    return int(result.scalar_one())


# The same, as a part of the statement that uses the number (PostgreSQL only: SQLite has no UPDATE
# in a WITH): `select(NEXT_SEQ_PART.c.change_seq).scalar_subquery()` in a statement that also
# `add_cte(NEXT_SEQ_PART)`, after `store.changed(author_id)`. One round trip fewer while the
# author's row is held: the row lock then lasts that statement and the commit, not a round trip more.
NEXT_SEQ_PART: CTE = _take_numbers(literal(1, Integer)).cte("next_seq")


_LOCK = (
    select(User.id)
    .where(User.id.in_(bindparam("author_ids", expanding=True)))
    .order_by(User.id)
    .with_for_update()
)


async def delete_for_good(store: Store, *, author_ids: Collection[int], which: ColumnElement[bool]) -> int:
    """Delete the notes of these authors that `which` picks, each leaving a marker with its author's
    next number (in id order); returns how many. The authors' rows are locked first, in id order,
    so that the set `which` picks cannot change under us and two such deletes never deadlock."""
    authors = sorted(set(author_ids))
    if not authors:
        return 0
    await store.rows(_LOCK, author_ids=authors)
    for author_id in authors:
        store.changed(author_id)
    which = Note.author_id.in_(authors) & which
    number = User.change_seq + func.row_number().over(partition_by=Note.author_id, order_by=Note.id)
    await store.execute(
        insert(NoteTombstone).from_select(
            ["note_id", "author_id", "change_seq", "deleted_at"],
            select(Note.id, Note.author_id, number, bindparam("now", type_=UTCDateTime))
            .join(User, User.id == Note.author_id)
            .where(which),
        ),
        now=utcnow(),
    )
    deleted = (await store.execute(delete(Note).where(which))).rowcount
    newer = (NoteTombstone.author_id == User.id) & (NoteTombstone.change_seq > User.change_seq)
    await store.execute(
        update(User)
        .where(User.id.in_(authors), exists().where(newer))
        .values(
            change_seq=select(func.max(NoteTombstone.change_seq))
            .where(NoteTombstone.author_id == User.id)
            .scalar_subquery()
        )
    )
    return deleted


async def purge_old_markers(store: Store, *, days: int) -> int:
    """Delete the markers of notes deleted for good more than `days` ago (any author), raising each
    author's `tombstones_purged_seq` to the newest one gone: a cursor from before it expires.
    Housekeeping's job; it locks the authors' rows in id order, as `delete_for_good` does."""
    old = NoteTombstone.deleted_at < utcnow() - timedelta(days=days)
    authors = list(await store.rows(select(NoteTombstone.author_id).where(old).distinct()))
    if not authors:
        return 0
    await store.rows(_LOCK, author_ids=[row.author_id for row in authors])
    newest_old = (
        select(func.max(NoteTombstone.change_seq))
        .where(NoteTombstone.author_id == User.id, old)
        .scalar_subquery()
    )
    await store.execute(
        update(User)
        .where(User.id.in_(select(NoteTombstone.author_id).where(old)))
        .values(
            tombstones_purged_seq=case(
                (newest_old > User.tombstones_purged_seq, newest_old), else_=User.tombstones_purged_seq
            )
        )
    )
    return (await store.execute(delete(NoteTombstone).where(old))).rowcount
