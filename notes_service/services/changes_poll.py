"""The change feed's most frequent request, a poll with nothing new (`GET /api/changes?since=<the
latest>`): the token check reads the user's feed counters in its own statement, and when they say
that nothing changed after the cursor, the answer needs no other read (on PostgreSQL one round trip,
as a plain `GET /api/notes` has).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from ..data import Read, Store, generic_plan, utcnow
from ..data.models import User
from . import tokens
from .changes import Counters
from .security import digest
from .users import CurrentUser


@dataclass(frozen=True)
class WithCounters(CurrentUser):
    """A user signed in by `find_token_with_counters`, with the feed's counters read beside the token."""

    counters: Counters = Counters(0, 0)


class _TokenUserCounters(NamedTuple):
    """`tokens.TokenUser`'s fields, then the user's feed counters."""

    id: int
    username: str
    email: str
    created_at: datetime
    email_verified: bool
    two_factor: bool
    token_id: int
    last_used_at: datetime | None
    security_stamp: int
    change_seq: int
    purged_seq: int


TOKEN_USER_COUNTERS = Read(
    generic_plan(
        tokens.TOKEN_USER.statement.add_columns(
            User.change_seq, User.tombstones_purged_seq.label("purged_seq")
        )
    ),
    _TokenUserCounters,
)


async def find_token_with_counters(store: Store, *, secret: str) -> tokens.FoundToken | None:
    """`tokens.find_token`, the user's feed counters read in the same statement (`WithCounters`)."""
    now = utcnow()
    row = await store.row(TOKEN_USER_COUNTERS, digest=digest(secret), now=now)
    if row is None:
        return None
    user = WithCounters(
        *row[:6],
        token_id=row.token_id,
        security_stamp=row.security_stamp,
        counters=Counters(row.change_seq, row.purged_seq),
    )
    return tokens.found_token(user, last_used_at=row.last_used_at, now=now)


def counters_of(user: CurrentUser) -> Counters | None:
    """The counters read with the user's token, if they were."""
    return user.counters if isinstance(user, WithCounters) else None
