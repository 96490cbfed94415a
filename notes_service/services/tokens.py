"""API tokens: random secrets of which only a SHA-256 digest is stored, many per user."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, insert, or_, select, true, update
from sqlalchemy.sql import Select

from ..data import Store, UTCDateTime, utcnow
from ..models import ApiToken, User
from ..schemas import TokenInfo
from ..security import TOKEN_PREFIX, digest, new_secret
from ..shapes import columns_of
from .errors import Missing
from .users import CurrentUser

TOUCH_INTERVAL = timedelta(minutes=1)
TOKEN_COLUMNS = columns_of(TokenInfo, ApiToken)
UNEXPIRED = or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > bindparam("now", type_=UTCDateTime))


@dataclass(frozen=True)
class FoundToken:
    """The user behind a valid token (`user.token_id` names the token)."""

    user: CurrentUser
    stale: bool  # last_used_at is over a minute old: write it now; reads stay reads otherwise


async def issue_token(
    store: Store, *, user_id: int, name: str, expires_in_days: int | None
) -> tuple[Any, str]:
    """Create a token; returns its row (`TokenInfo`'s fields) and its secret, shown once, never stored."""
    secret = new_secret(TOKEN_PREFIX)
    now = utcnow()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    result = await store.execute(
        insert(ApiToken)
        .values(
            user_id=user_id, name=name, token_digest=digest(secret), created_at=now, expires_at=expires_at
        )
        .returning(*TOKEN_COLUMNS)
    )
    return result.one(), secret


TOKEN_USER = (
    select(
        User.id,
        User.username,
        User.email,
        User.created_at,
        User.email_verified,
        User.two_factor,
        ApiToken.id.label("token_id"),
        ApiToken.last_used_at,
    )
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_digest == bindparam("digest"),
        User.is_active.is_(True),
        UNEXPIRED,
    )
)


async def find_token(store: Store, *, secret: str) -> FoundToken | None:
    """The active user's unexpired token with this secret, in one indexed query."""
    now = utcnow()
    row = await store.row(TOKEN_USER, digest=digest(secret), now=now)
    return None if row is None else _found(row, now)


def _found(row: Any, now: datetime) -> FoundToken:
    user = CurrentUser.of(row, token_id=row.token_id)
    return FoundToken(user, stale=row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL)


@dataclass(frozen=True)
class WithToken:
    """A read of the token's own user's rows, in one statement with the token check (see `with_token`)."""

    statement: Select[Any]
    width: int  # the read's columns come first, under their own names; then the token check's
    token_row: Callable[[Iterable[Any]], Any]  # the token check's columns, by name


def with_token(
    read: Callable[[ColumnElement[int]], Select[Any]], order: Callable[[Any], Iterable[Any]]
) -> WithToken:
    """`read(the token's user id)` joined to the token check, ordered by `order(its columns)`.

    On PostgreSQL every statement is a round trip, so a route that checks the token and then reads
    makes two; this makes one. `read`'s first column must never be NULL (it tells "no rows").
    """
    token = TOKEN_USER.cte("token")
    rows = read(select(token.c.id).scalar_subquery()).subquery("found")
    statement = select(rows, token).select_from(token.outerjoin(rows, true())).order_by(*order(rows.c))
    token_row = namedtuple("TokenRow", token.c.keys())  # type: ignore[misc]  # names known only here
    return WithToken(statement, width=len(rows.c), token_row=token_row._make)


async def find_token_with(
    store: Store, *, secret: str, read: WithToken, **params: Any
) -> tuple[FoundToken | None, list[Any]]:
    """`find_token` and, for a valid token, the rows of `read` for its user, in one statement."""
    now = utcnow()
    rows = await store.rows(read.statement, digest=digest(secret), now=now, **params)
    if not rows:
        return None, []
    found = _found(read.token_row(rows[0][read.width :]), now)
    return found, rows if rows[0][0] is not None else []  # a token without rows: one row of NULLs


async def touch_token(store: Store, *, token_id: int) -> None:
    """Record that the token was used now."""
    await store.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))


USER_TOKENS = (
    select(*TOKEN_COLUMNS)
    .where(ApiToken.user_id == bindparam("user_id"), UNEXPIRED)
    .order_by(ApiToken.id.desc())
)


async def list_tokens(store: Store, *, user_id: int) -> list[Any]:
    """The user's unexpired tokens, newest first (`TokenInfo`'s fields: never a secret or digest)."""
    return await store.rows(USER_TOKENS, user_id=user_id, now=utcnow())


async def revoke_token(store: Store, *, user_id: int, token_id: int) -> None:
    """Delete one of the user's own tokens; Missing when there is no such token of theirs."""
    result = await store.execute(delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id))
    if not result.rowcount:
        raise Missing(token_id)


async def revoke_all_tokens(store: Store, *, user_id: int) -> None:
    await store.execute(delete(ApiToken).where(ApiToken.user_id == user_id))


async def delete_expired_tokens(store: Store) -> int:
    """Delete every token past its expiry (none can authenticate); returns how many."""
    return (await store.execute(delete(ApiToken).where(~UNEXPIRED), now=utcnow())).rowcount
