"""API tokens: random secrets of which only a SHA-256 digest is stored, many per user.

Each carries the user's security stamp of when it was issued; a change of the account's security
bumps the stamp, and a token with another one is revoked, even one issued while that change was in
flight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, delete, insert, or_, select, update
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import ScalarSelect

from ..data import Read, Store, UTCDateTime, generic_plan, utcnow
from ..data.models import ApiToken, User
from ..data.rowtypes import columns
from .errors import Missing
from .rows import TokenRow
from .security import TOKEN_PREFIX, digest, new_secret
from .users import CurrentUser

TOUCH_INTERVAL = timedelta(minutes=1)
TOKEN_COLUMNS = columns(TokenRow, ApiToken)


def unexpired(now: ColumnElement[datetime]) -> ColumnElement[bool]:
    """The token has no expiry, or expires after `now` (a parameter or a column)."""
    return or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now)


UNEXPIRED = unexpired(bindparam("now", type_=UTCDateTime))
# Issued under the user's current security stamp (a join with `users`).
STAMPED = ApiToken.security_stamp == User.security_stamp


@dataclass(frozen=True)
class FoundToken:
    """The user behind a valid token (`user.token_id` names the token)."""

    user: CurrentUser
    stale: bool  # last_used_at is over a minute old: write it now; reads stay reads otherwise


async def issue_token(
    store: Store, *, user_id: int, name: str, expires_in_days: int | None, security_stamp: int | None
) -> tuple[TokenRow, str]:
    """Create a token under the security stamp its checks saw (None: the user's stamp now); returns
    its row and its secret, shown once, never stored."""
    secret = new_secret(TOKEN_PREFIX)
    now = utcnow()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    stamp: int | ScalarSelect[int] = (
        security_stamp
        if security_stamp is not None
        else select(User.security_stamp).where(User.id == user_id).scalar_subquery()
    )
    result = await store.execute(
        insert(ApiToken)
        .values(
            user_id=user_id,
            name=name,
            token_digest=digest(secret),
            created_at=now,
            expires_at=expires_at,
            security_stamp=stamp,
        )
        .returning(*TOKEN_COLUMNS)
    )
    return TokenRow._make(result.one()), secret


class TokenUser(NamedTuple):
    """An active user (`UserRow`'s fields) by a valid token of theirs."""

    id: int
    username: str
    email: str
    created_at: datetime
    email_verified: bool
    two_factor: bool
    token_id: int
    last_used_at: datetime | None
    security_stamp: int


TOKEN_USER = Read(
    generic_plan(
        select(
            User.id,
            User.username,
            User.email,
            User.created_at,
            User.email_verified,
            User.two_factor,
            ApiToken.id.label("token_id"),
            ApiToken.last_used_at,
            ApiToken.security_stamp,
        )
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_digest == bindparam("digest"),
            User.is_active.is_(True),
            UNEXPIRED,
            STAMPED,
        )
    ),
    TokenUser,
)


async def find_token(store: Store, *, secret: str) -> FoundToken | None:
    """The active user's unexpired token with this secret, in one indexed query (none when the
    account's security changed since it was issued)."""
    now = utcnow()
    row = await store.row(TOKEN_USER, digest=digest(secret), now=now)
    if row is None:
        return None
    user = CurrentUser(
        row.id,
        row.username,
        row.email,
        row.created_at,
        row.email_verified,
        row.two_factor,
        token_id=row.token_id,
        security_stamp=row.security_stamp,
    )
    return found_token(user, last_used_at=row.last_used_at, now=now)


def found_token(user: CurrentUser, *, last_used_at: datetime | None, now: datetime) -> FoundToken:
    """The token's user, and whether its last use is old enough to be recorded again."""
    return FoundToken(user, stale=last_used_at is None or now - last_used_at >= TOUCH_INTERVAL)


async def touch_token(store: Store, *, token_id: int) -> None:
    """Record that the token was used now."""
    await store.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


USER_TOKENS = Read(
    select(*TOKEN_COLUMNS)
    .join(User, User.id == ApiToken.user_id)
    .where(ApiToken.user_id == bindparam("user_id"), UNEXPIRED, STAMPED)
    .order_by(ApiToken.id.desc()),
    TokenRow,
)


async def list_tokens(store: Store, *, user_id: int) -> list[TokenRow]:
    """The user's unexpired tokens, newest first (never a secret or digest)."""
    return await store.rows(USER_TOKENS, user_id=user_id, now=utcnow())


async def revoke_token(store: Store, *, user_id: int, token_id: int) -> None:
    """Delete one of the user's own tokens; Missing when there is no such token of theirs."""
    result = await store.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id))
    if not result.rowcount:
        raise Missing(token_id)
    store.revoked()  # its open streams end (live/)


async def revoke_all_tokens(store: Store, *, user_id: int) -> None:
    await store.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    store.revoked()


# Issued under a stamp that is no longer its user's (a correlated subquery: no join in a DELETE).
RESTAMPED = ApiToken.security_stamp != (
    select(User.security_stamp).where(User.id == ApiToken.user_id).scalar_subquery()
)


async def delete_expired_tokens(store: Store) -> int:
    """Delete every token past its expiry or revoked by its stamp (none can authenticate); returns
    how many."""
    ended = or_(~UNEXPIRED, RESTAMPED)
    return (await store.execute(delete(ApiToken).where(ended), now=utcnow())).rowcount
