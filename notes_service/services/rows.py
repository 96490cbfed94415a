"""What the services' reads return: one NamedTuple per shape of row that leaves a service.

Each is the columns of its query, in order (`data.Read` pairs the two and checks them when the
statement is compiled), so `note.version` in a route is type-checked. A row that the API writes out
has its output model's fields (http/schemas.py) first, in the model's order, and may carry more
after them (what the service needed besides); tests/http/test_rows_and_schemas.py holds each model
and its row types together. Rows that only one service uses are declared beside it.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple


class NoteRow(NamedTuple):
    """A live note as the API shows it (`NoteOut`)."""

    id: int
    title: str
    content: str
    is_pinned: bool
    created_at: datetime
    updated_at: datetime
    version: int
    tags: list[str]


class SearchHit(NamedTuple):
    """A note found by a search: `NoteRow`'s fields, then which half of the order it is in."""

    id: int
    title: str
    content: str
    is_pinned: bool
    created_at: datetime
    updated_at: datetime
    version: int
    tags: list[str]
    title_first: int  # 1: the title holds the whole query (these come first), else 0


class TokenPageRow(NamedTuple):
    """A row of the token check read with the first page of notes (services/first_page.py): one of
    the page's notes (`NoteRow`'s fields), then the call it answers (`n`) and the token's user.
    A user without notes is one row with the note's fields null; that row is never handed on."""

    id: int
    title: str
    content: str
    is_pinned: bool
    created_at: datetime
    updated_at: datetime
    version: int
    tags: list[str]
    n: int
    user_id: int
    username: str
    email: str
    user_created_at: datetime
    email_verified: bool
    two_factor: bool
    token_id: int
    last_used_at: datetime | None
    security_stamp: int


class TrashedNoteRow(NamedTuple):
    """A note in the trash (`TrashedNoteOut`)."""

    id: int
    title: str
    content: str
    is_pinned: bool
    created_at: datetime
    updated_at: datetime
    version: int
    tags: list[str]
    deleted_at: datetime


class ExportedNoteRow(NamedTuple):
    """A note in an account's export, in the trash or not (`ExportedNoteOut`)."""

    id: int
    title: str
    content: str
    is_pinned: bool
    created_at: datetime
    updated_at: datetime
    version: int
    tags: list[str]
    deleted_at: datetime | None


class NotePageRow(NamedTuple):
    """A note for its own page: `NoteRow`'s fields, its owner and trash time (checked by the
    service), and its stored HTML (`render.markdown.shown_html`)."""

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
    content_html: str | None
    html_renderer: str | None


class UserRow(NamedTuple):
    """An account as the API shows it (`UserOut`)."""

    id: int
    username: str
    email: str
    created_at: datetime
    email_verified: bool
    two_factor: bool


class TokenRow(NamedTuple):
    """An API token as its owner sees it (`TokenInfo`): never its secret or digest."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None


class ChangedNoteRow(NamedTuple):
    """A note in the change feed (`ChangedNoteOut`), in the trash or not, and its place there."""

    id: int
    title: str
    content: str
    is_pinned: bool
    created_at: datetime
    updated_at: datetime
    version: int
    tags: list[str]
    deleted_at: datetime | None
    change_seq: int


class DeletedNoteRow(NamedTuple):
    """A note deleted for good, as the change feed's marker tells it, and its place there."""

    id: int
    change_seq: int
