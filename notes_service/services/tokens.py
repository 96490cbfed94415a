"""API tokens: random secrets of which only a SHA-256 digest is stored, many per user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import UTCDateTime, begin_write, utcnow
from ..models import ApiToken, User
from ..reader import Reader
from ..security import TOKEN_PREFIX, digest, new_secret

TOUCH_INTERVAL = timedelta(minutes=1)


class Account(NamedTuple):
    """What the API needs to know of the user behind a token."""

    id: int
    username: str
    email: str
    created_at: datetime


@dataclass(frozen=True)
class Caller:
    """Who an API request comes from: the user and the token they used."""

    user: Account
    token_id: int
    # last_used_at is over a minute old: write it now. Reads stay reads the rest of the time.
    needs_touch: bool = False


async def issue_token(
    session: AsyncSession, *, user_id: int, name: str, expires_in_days: int | None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown once and never stored."""
    secret = new_secret(TOKEN_PREFIX)
    now = utcnow()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(
        user_id=user_id,
        name=name,
        token_digest=digest(secret),
        created_at=now,
        expires_at=expires_at,
    )
    await begin_write(session)
    session.add(token)
    await session.flush()
    return token, secret


CALLER = (
    select(
        User.id,
        User.username,
        User.email,
        User.created_at,
        ApiToken.id.label("token_id"),
        ApiToken.last_used_at,
    )
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_digest == bindparam("digest"),
        User.is_active.is_(True),
        or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > bindparam("now", type_=UTCDateTime)),
    )
)


async def authenticate_token(reader: Reader, *, secret: str) -> Caller | None:
    """The active, unexpired token with this secret and its user, in one indexed query."""
    now = utcnow()
    row = await reader.first(reader.prepared(CALLER), digest=digest(secret), now=now)
    if row is None:
        return None
    stale = row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL
    user = Account(row.id, row.username, row.email, row.created_at)
    return Caller(user=user, token_id=row.token_id, needs_touch=stale)


async def touch_token(session: AsyncSession, *, token_id: int) -> None:
    """Record that the token was used (callers do it at most once a minute, see `Caller`)."""
    await begin_write(session)
    await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))
    await session.commit()


async def list_tokens(session: AsyncSession, *, user_id: int) -> list[ApiToken]:
    result = await session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    )
    return list(result)


async def revoke_token(session: AsyncSession, *, user_id: int, token_id: int) -> bool:
    """Delete one of the user's own tokens; False when there is no such token of theirs."""
    await begin_write(session)
    result = await session.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def revoke_all_tokens(session: AsyncSession, *, user_id: int) -> None:
    await begin_write(session)
    await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
