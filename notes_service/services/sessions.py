"""Browser sessions: the server-side half of a login, so that any of them can be ended at once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import begin_write, utcnow
from ..models import AuthSession, User
from ..reader import Reader
from ..security import digest, new_secret

TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetime:
    """How long sessions live: remembered ones from creation, others from last activity."""

    remember: timedelta
    idle: timedelta

    def expired(self, row: SignedIn, now: datetime) -> bool:
        if row.remember:
            return now - row.created_at > self.remember
        return now - row.last_seen_at > self.idle


async def start_session(session: AsyncSession, *, user_id: int, remember: bool, user_agent: str) -> str:
    """Record a new login and return its secret (for the cookie; only its digest is stored)."""
    secret = new_secret()
    await begin_write(session)
    session.add(
        AuthSession(
            id_digest=digest(secret),
            user_id=user_id,
            remember=remember,
            user_agent=user_agent[:255],
        )
    )
    await session.flush()
    return secret


class SignedIn(NamedTuple):
    """A live browser session and the user it belongs to, as one row."""

    session_id: int
    remember: bool
    created_at: datetime
    last_seen_at: datetime
    id: int
    username: str
    email: str
    is_active: bool
    password_hash: str


SIGNED_IN = (
    select(
        AuthSession.id.label("session_id"),
        AuthSession.remember,
        AuthSession.created_at,
        AuthSession.last_seen_at,
        User.id,
        User.username,
        User.email,
        User.is_active,
        User.password_hash,
    )
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.id_digest == bindparam("digest"))
)


async def load_session(reader: Reader, *, secret: str, lifetime: Lifetime) -> SignedIn | None:
    """The live session with this secret and its user (active or not), in one indexed query."""
    row: SignedIn | None = await reader.first(reader.prepared(SIGNED_IN, SignedIn), digest=digest(secret))
    if row is None or lifetime.expired(row, utcnow()):
        return None
    return row


def needs_touch(signed_in: SignedIn) -> bool:
    """`last_seen_at` is over a minute old: note the activity (reads stay reads otherwise)."""
    return utcnow() - signed_in.last_seen_at >= TOUCH_INTERVAL


async def touch_session(session: AsyncSession, *, signed_in: SignedIn) -> None:
    """Record activity on the session now."""
    now = utcnow()
    await begin_write(session)
    await session.execute(
        update(AuthSession).where(AuthSession.id == signed_in.session_id).values(last_seen_at=now)
    )
    await session.commit()


async def list_sessions(session: AsyncSession, *, user_id: int) -> list[AuthSession]:
    result = await session.scalars(
        select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.last_seen_at.desc())
    )
    return list(result)


async def end_session(session: AsyncSession, *, session_id: int) -> None:
    await begin_write(session)
    await session.execute(delete(AuthSession).where(AuthSession.id == session_id))


async def end_other_sessions(session: AsyncSession, *, user_id: int, keep_id: int | None) -> int:
    """End every session of the user except `keep_id`; returns how many ended."""
    await begin_write(session)
    statement = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep_id is not None:
        statement = statement.where(AuthSession.id != keep_id)
    result = await session.execute(statement)
    return result.rowcount or 0  # type: ignore[attr-defined]
