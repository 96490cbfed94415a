"""Notes: always read and written through their author; trashed notes are nowhere but the trash.

Every change adds 1 to `version`. A writer that says which version it saw (`expected`) changes the
note only if it is still that version, in the UPDATE's own WHERE clause, so of two concurrent writers
that saw the same version exactly one wins and the other gets `Stale` — on SQLite and PostgreSQL alike.
Every change also takes the author's next change number first (`changes.next_seq`: the feed's order,
and on PostgreSQL the author's row lock, taken before the note's).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, TypedDict, Unpack

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Insert,
    Integer,
    Select,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    true,
    tuple_,
    update,
)

from ..data import Read, Store, UTCDateTime, generic_plan, utcnow
from ..data.models import Note, NoteTag
from ..data.rowtypes import columns
from ..data.types import TagList
from ..render.markdown import RENDERER, stored_html
from ..rules import normal_tags
from .changes import NEXT_SEQ_PART, next_seq
from .errors import InTrash, Missing, NotOwner, Stale
from .rows import ExportedNoteRow, NotePageRow, NoteRow, TokenPageRow

# Pinned first, then newest first; id breaks ties so every note has one place in the order.
ORDER = (Note.is_pinned.desc(), Note.created_at.desc(), Note.id.desc())
NOTE_COLUMNS = columns(NoteRow, Note)
NOTE_WIDTH = len(NOTE_COLUMNS)
LIVE = Note.deleted_at.is_(None)


@dataclass(frozen=True)
class Position:
    """Where a page ended in the list order: the last note's sort key."""

    is_pinned: bool
    created_at: datetime
    id: int

    @classmethod
    def of(cls, note: NoteRow | TokenPageRow) -> Position:
        """The position of a note row."""
        return cls(note.is_pinned, note.created_at, note.id)


@dataclass(frozen=True)
class Summary:
    total: int
    pinned: int


class _Counts(NamedTuple):
    total: int
    pinned: int | None


class _OwnedNote(NamedTuple):
    """`NoteRow`'s fields, then what `get_note` checks."""

    id: int
    title: str
    content: str
    is_pinned: bool
    created_at: datetime
    updated_at: datetime
    version: int
    tags: list[str]
    author_id: int
    deleted_at: datetime | None


SUMMARY = Read(
    select(
        func.count(Note.id).label("total"),
        func.count(Note.id).filter(Note.is_pinned.is_(True)).label("pinned"),
    ).where(Note.author_id == bindparam("author_id"), LIVE),
    _Counts,
)
NUMBERED_PAGE = Read(
    select(*NOTE_COLUMNS)
    .where(Note.author_id == bindparam("author_id"), LIVE)
    .order_by(*ORDER)
    .limit(bindparam("limit"))
    .offset(bindparam("offset")),
    NoteRow,
)
FIRST_PAGE = Read(
    generic_plan(
        select(*NOTE_COLUMNS)
        .where(Note.author_id == bindparam("author_id"), LIVE)
        .order_by(*ORDER)
        .limit(bindparam("limit"))
    ),
    NoteRow,
)
# All three columns sort descending, so "after a note" is "smaller as a tuple".
NEXT_PAGE = Read(
    generic_plan(
        FIRST_PAGE.statement.where(
            tuple_(Note.is_pinned, Note.created_at, Note.id)
            < tuple_(
                bindparam("pinned", type_=Boolean), bindparam("created", type_=UTCDateTime), bindparam("id")
            )
        )
    ),
    NoteRow,
)
ONE_NOTE = Read(
    generic_plan(select(*NOTE_COLUMNS, Note.author_id, Note.deleted_at).where(Note.id == bindparam("id"))),
    _OwnedNote,
)
# The note page's read: also the stored HTML (the API and the edit form leave it in the database).
NOTE_PAGE = Read(
    generic_plan(ONE_NOTE.statement.add_columns(Note.content_html, Note.html_renderer)), NotePageRow
)


async def summarize_notes(store: Store, *, author_id: int) -> Summary:
    """How many notes the author has, and how many of them are pinned."""
    row = await store.row(SUMMARY, author_id=author_id)
    return Summary(total=row.total, pinned=row.pinned or 0) if row else Summary(0, 0)


async def list_notes(store: Store, *, author_id: int, limit: int, offset: int = 0) -> list[NoteRow]:
    """A numbered page of the author's notes (for the HTML list)."""
    return await store.rows(NUMBERED_PAGE, author_id=author_id, limit=limit, offset=offset)


async def list_notes_after(
    store: Store, *, author_id: int, after: Position | None, limit: int
) -> list[NoteRow]:
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


def _owned(note: _OwnedNote | NotePageRow | None, *, note_id: int, author_id: int) -> None:
    """Missing when there is no such note (InTrash when it is the author's, in the trash; another
    user's trashed note is plainly Missing), NotOwner when it is someone else's."""
    if note is not None and note.deleted_at is not None and note.author_id == author_id:
        raise InTrash(note_id)
    if note is None or note.deleted_at is not None:
        raise Missing(note_id)
    if note.author_id != author_id:
        raise NotOwner(note_id)


async def get_note(store: Store, *, note_id: int, author_id: int) -> NoteRow:
    """The author's live note; Missing when there is none (or it is in the trash), NotOwner when it
    is someone else's."""
    note = await store.row(ONE_NOTE, id=note_id)
    _owned(note, note_id=note_id, author_id=author_id)
    assert note is not None  # _owned said Missing otherwise
    return NoteRow._make(note[:NOTE_WIDTH])


async def get_note_page(store: Store, *, note_id: int, author_id: int) -> NotePageRow:
    """`get_note` with the stored HTML too (`render.markdown.shown_html`), for the note's page."""
    note = await store.row(NOTE_PAGE, id=note_id)
    _owned(note, note_id=note_id, author_id=author_id)
    assert note is not None  # _owned said Missing otherwise
    return note


def _insert_note(change_seq: ColumnElement[int]) -> Insert:
    """INSERT a note of the author's, version 1, numbered `change_seq`; RETURNING its row."""
    return (
        insert(Note)
        .values(
            author_id=bindparam("author_id"),
            title=bindparam("title"),
            content=bindparam("content"),
            content_html=bindparam("content_html"),
            html_renderer=bindparam("html_renderer"),
            is_pinned=bindparam("is_pinned"),
            created_at=bindparam("now", type_=UTCDateTime),
            updated_at=bindparam("now", type_=UTCDateTime),
            version=1,
            change_seq=change_seq,
            tags=bindparam("tags", type_=TagList),
        )
        .returning(*NOTE_COLUMNS)
    )


def _numbered_note_with_tags() -> Select[Any]:
    """PostgreSQL: the whole create in one statement. The author's next number (changes.NEXT_SEQ_PART),
    the note's INSERT and its `note_tags` rows, as data-modifying WITH parts; it reads the note's row."""
    note = (
        _insert_note(select(NEXT_SEQ_PART.c.change_seq).scalar_subquery())
        .returning(Note.author_id)
        .cte("note")
    )
    tags = func.unnest(func.string_to_array(note.c.tags, " "))
    tagged = insert(NoteTag).from_select(
        ["note_id", "author_id", "tag"], select(note.c.id, note.c.author_id, tags)
    )
    return select(*(note.c[column.key] for column in NOTE_COLUMNS)).add_cte(
        NEXT_SEQ_PART, tagged.cte("tagged")
    )


# Built once: a statement made per call costs more to build (ORM value coercion) than to run.
# SQLite: the number taken first (`next_seq`), then the INSERT, then the tags. PostgreSQL: all in one
# statement, which the route can send alone (`Store.write(alone=True)`: no BEGIN or COMMIT round
# trips), so that the author's row, which a create holds from its number on, is held for no round trip.
INSERT_NOTE = _insert_note(bindparam("change_seq", type_=Integer))
CREATE_NOTE_AT_ONCE = _numbered_note_with_tags()


async def create_note(
    store: Store,
    *,
    author_id: int,
    title: str,
    content: str,
    is_pinned: bool = False,
    tags: Sequence[str] = (),
) -> NoteRow:
    """A new note of the author's (version 1), with its HTML and tags; returns its row. One statement
    on PostgreSQL (see CREATE_NOTE_AT_ONCE)."""
    tags = normal_tags(tags)
    fields: dict[str, Any] = {"author_id": author_id, "title": title, "content": content}
    fields |= {"is_pinned": is_pinned, "tags": tags, **stored_html(content)}
    now = utcnow()  # one instant for both, so an unedited note shows no "edited" time
    if store.for_dialect(sqlite=False, postgresql=True):
        store.changed(author_id)
        return NoteRow._make((await store.execute(CREATE_NOTE_AT_ONCE, now=now, **fields)).one())
    change_seq = await next_seq(store, author_id=author_id)
    note = NoteRow._make((await store.execute(INSERT_NOTE, now=now, change_seq=change_seq, **fields)).one())
    await set_tags(store, note_id=note.id, author_id=author_id, tags=tags, new=True)
    return note


def matches(expected: Collection[int] | None) -> ColumnElement[bool]:
    """The WHERE part of a conditional write: any version when None, else one of `expected`."""
    return true() if expected is None else Note.version.in_(list(expected))


async def _refused(store: Store, *, note_id: int, author_id: int) -> Stale:
    """Why a conditional write found no row: Missing/NotOwner are raised, else the note is Stale."""
    note = await get_note(store, note_id=note_id, author_id=author_id)
    return Stale(note.version)


class NoteChanges(TypedDict, total=False):
    """What a change to a note may set: any of these, the others stay."""

    title: str
    content: str
    is_pinned: bool
    tags: Sequence[str]


async def update_note(
    store: Store,
    *,
    note_id: int,
    author_id: int,
    expected: Collection[int] | None = None,
    **changes: Unpack[NoteChanges],
) -> NoteRow:
    """Change some fields of the author's note (new content: new HTML too), if it is still at one of
    the `expected` versions (Missing/NotOwner as `get_note`, Stale when it has moved on); returns its row."""
    html = stored_html(changes["content"]) if "content" in changes else {}
    values: dict[str, Any] = {**changes, **html}
    if "tags" in changes:
        values["tags"] = normal_tags(changes["tags"])
    change_seq = await next_seq(store, author_id=author_id)
    result = await store.execute(
        update(Note)
        .where(Note.id == note_id, Note.author_id == author_id, LIVE, matches(expected))
        .values(**values, updated_at=utcnow(), version=Note.version + 1, change_seq=change_seq)
        .returning(*NOTE_COLUMNS)
    )
    note = result.one_or_none()
    if note is None:
        raise await _refused(store, note_id=note_id, author_id=author_id)
    if "tags" in values:
        await set_tags(store, note_id=note_id, author_id=author_id, tags=values["tags"])
    return NoteRow._make(note)


async def set_tags(store: Store, *, note_id: int, author_id: int, tags: list[str], new: bool = False) -> None:
    """Make `note_tags` hold exactly these tags of the note (in the write block that set
    `notes.tags`, after the note's row was written and so locked)."""
    if not new:
        await store.execute(delete(NoteTag).where(NoteTag.note_id == note_id))
    if tags:
        rows = [{"note_id": note_id, "author_id": author_id, "tag": tag} for tag in tags]
        await store.execute(insert(NoteTag).values(rows))


async def trash_note(
    store: Store, *, note_id: int, author_id: int, expected: Collection[int] | None = None
) -> None:
    """Move the author's note to the trash (Missing/NotOwner/Stale as `update_note`)."""
    change_seq = await next_seq(store, author_id=author_id)
    result = await store.execute(
        update(Note)
        .where(Note.id == note_id, Note.author_id == author_id, LIVE, matches(expected))
        .values(
            deleted_at=utcnow(), version=Note.version + 1, updated_at=Note.updated_at, change_seq=change_seq
        )
        .returning(Note.id)
    )
    if result.one_or_none() is None:
        raise await _refused(store, note_id=note_id, author_id=author_id)


class StaleHtml(NamedTuple):
    """A note whose stored HTML is to be made again."""

    id: int
    content: str
    version: int


# Every note, trashed ones too, whose stored HTML is missing or was made by another renderer.
STALE_HTML = Read(
    select(Note.id, Note.content, Note.version)
    .where(
        Note.id > bindparam("after"),
        or_(Note.html_renderer.is_(None), Note.html_renderer != bindparam("renderer")),
    )
    .order_by(Note.id)
    .limit(bindparam("limit")),
    StaleHtml,
)


async def notes_with_stale_html(store: Store, *, after: int, limit: int) -> list[StaleHtml]:
    """Up to `limit` notes with an id above `after` whose HTML is not this renderer's, by id."""
    return await store.rows(STALE_HTML, after=after, renderer=RENDERER, limit=limit)


async def refresh_html(store: Store, note: StaleHtml) -> bool:
    """Store the HTML of a `notes_with_stale_html` row, unless the note changed since it was read
    (its writer stored new HTML then). The version, the edited time and the place in the change
    feed stay: no one edited it, and a reader has nothing new to see."""
    result = await store.execute(
        update(Note)
        .where(Note.id == note.id, Note.version == note.version)
        .values(**stored_html(note.content), updated_at=Note.updated_at)
    )
    return bool(result.rowcount)


# The export (SPEC §7): every note of the account, trashed ones too, a batch at a time by id.
EXPORT_BATCH = Read(
    select(*columns(ExportedNoteRow, Note))
    .where(Note.author_id == bindparam("author_id"), Note.id > bindparam("after", type_=Integer))
    .order_by(Note.id)
    .limit(bindparam("limit", type_=Integer)),
    ExportedNoteRow,
)


async def notes_to_export(store: Store, *, author_id: int, after: int, limit: int) -> list[ExportedNoteRow]:
    """Up to `limit` of the author's notes with an id above `after`, in the trash or not, by id."""
    return await store.rows(EXPORT_BATCH, author_id=author_id, after=after, limit=limit)
