"""The API's most frequent read, a plain `GET /api/notes`: the token check and the first page of
notes in one statement (PostgreSQL).

`find_token_with_first_page` is the route's token check: it signs the token's user in as
`WithFirstPage`, which holds the page read beside the token. The route then asks for its page with
`list_notes_after`, which hands that page back when it is the page asked for (no cursor, the same
limit) and reads any other as `notes.list_notes_after` does. Where the store cannot batch reads
(SQLite: no LATERAL, and a read there is a library call, not a round trip) the check is
`tokens.find_token` and every page its own read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import String, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY

from ..data import BatchedRead, Read, Store, UTCDateTime, generic_plan, utcnow
from ..data.models import ApiToken, Note, User
from . import notes, tokens
from .notes import LIVE, NOTE_COLUMNS, ORDER, Position
from .rows import NoteRow, TokenPageRow
from .security import digest
from .users import CurrentUser


@dataclass(frozen=True)
class WithFirstPage(CurrentUser):
    """A user signed in by `find_token_with_first_page`, with the first page of their notes (in
    list order, up to `page_limit` of them) read in the token check's statement."""

    first_page: list[TokenPageRow] = field(default_factory=list, compare=False)
    page_limit: int = 0


# The user's first page of notes, read in the token check's own statement (a LATERAL join). One
# round trip instead of two; with both planned once per connection (`generic_plan`) it costs the
# server less than the two statements, and the worker a round trip less (measured:
# docs/performance.md). Written for many calls at once (`BatchedRead`): the requests of one turn of
# a worker's event loop share the round trip, each call's own token and time an element of the
# arrays `digest` and `now`. The note's columns come first and the user's are named apart from
# them, so that each row is written out as a note as it is (`TokenPageRow`).
_ASKED = (
    func.unnest(bindparam("digest", type_=ARRAY(String)), bindparam("now", type_=ARRAY(UTCDateTime)))
    .table_valued("digest", "now", with_ordinality="n")
    .render_derived("asked")
)
_FIRST_PAGE = (
    select(*NOTE_COLUMNS)
    .where(Note.author_id == User.id, LIVE)
    .order_by(*ORDER)
    .limit(bindparam("limit"))
    .lateral("page")
)
TOKEN_USER_FIRST_PAGE = BatchedRead(
    Read(
        generic_plan(
            select(
                *_FIRST_PAGE.c,
                _ASKED.c.n,
                User.id.label("user_id"),
                User.username,
                User.email,
                User.created_at.label("user_created_at"),
                User.email_verified,
                User.two_factor,
                ApiToken.id.label("token_id"),
                ApiToken.last_used_at,
                ApiToken.security_stamp,
            )
            .select_from(_ASKED)
            .join(ApiToken, ApiToken.token_digest == _ASKED.c.digest)
            .join(User, ApiToken.user_id == User.id)
            .outerjoin(_FIRST_PAGE, true())  # a user without notes is still one row
            .where(User.is_active.is_(True), tokens.unexpired(_ASKED.c.now), tokens.STAMPED)
            .order_by(  # n first: the calls come in that order, so each call's page is sorted alone
                _ASKED.c.n,
                _FIRST_PAGE.c.is_pinned.desc(),
                _FIRST_PAGE.c.created_at.desc(),
                _FIRST_PAGE.c.id.desc(),
            )
        ),
        TokenPageRow,
    ),
    per_call=("digest", "now"),
)


async def find_token_with_first_page(store: Store, *, secret: str, limit: int) -> tokens.FoundToken | None:
    """`tokens.find_token`, and where the store batches reads (PostgreSQL) the user's first `limit`
    notes in list order in the same statement: the found user is then `WithFirstPage`."""
    if not store.can_batch:
        return await tokens.find_token(store, secret=secret)
    now = utcnow()
    rows = await store.batched_rows(TOKEN_USER_FIRST_PAGE, digest=digest(secret), now=now, limit=limit)
    if not rows:
        return None
    row = rows[0]
    user = WithFirstPage(
        id=row.user_id,
        username=row.username,
        email=row.email,
        created_at=row.user_created_at,
        email_verified=row.email_verified,
        two_factor=row.two_factor,
        token_id=row.token_id,
        security_stamp=row.security_stamp,
        first_page=rows if row.id is not None else [],  # no note: one row, its note's fields null
        page_limit=limit,
    )
    return tokens.found_token(user, last_used_at=row.last_used_at, now=now)


async def list_notes_after(
    store: Store, user: CurrentUser, *, after: Position | None, limit: int
) -> list[NoteRow] | list[TokenPageRow]:
    """`notes.list_notes_after` of the user's notes: the first page read with the token check when
    that is the page asked for, else read now."""
    if isinstance(user, WithFirstPage) and after is None and limit == user.page_limit:
        return user.first_page
    return await notes.list_notes_after(store, author_id=user.id, after=after, limit=limit)
