"""Auth sessions (browser sign-ins): the server-side half of a sign-in, so any can end at once.

Each carries the user's security stamp of when it began; a change of the account's security bumps
the stamp, and a session with another stamp is found by no query here: it has ended, even one
created while that change was in flight.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import and_, bindparam, delete, insert, not_, or_, select, update

from ..data import Read, Store, UTCDateTime, generic_plan, utcnow
from ..data.models import AuthSession, User
from .security import digest, new_secret
from .users import CurrentUser

TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Lifetime:
    """How long auth sessions live: remembered ones from creation; others from last activity, and
    at most `longest` from creation however active (a restored browser session must end too)."""

    remember: timedelta
    idle: timedelta
    longest: timedelta

    @classmethod
    def of(cls, *, remember_days: float, idle_hours: float, longest_hours: float) -> Lifetime:
        return cls(
            remember=timedelta(days=remember_days),
            idle=timedelta(hours=idle_hours),
            longest=timedelta(hours=longest_hours),
        )

    def expired(self, *, remember: bool, started_at: datetime, last_seen_at: datetime, now: datetime) -> bool:
        if remember:
            return now - started_at > self.remember
        return now - last_seen_at > self.idle or now - started_at > self.longest

    def live_since(self, now: datetime) -> dict[str, datetime]:
        """The bounds of `LIVE` at `now`."""
        return {
            "remembered_since": now - self.remember,
            "seen_since": now - self.idle,
            "started_since": now - self.longest,
        }


# The session was made under the user's current security stamp (a join with `users`).
STAMPED = AuthSession.security_stamp == User.security_stamp
# The SQL twin of `Lifetime.expired`: which rows are still live.
LIVE = or_(
    and_(
        AuthSession.remember.is_(True),
        AuthSession.created_at > bindparam("remembered_since", type_=UTCDateTime),
    ),
    and_(
        AuthSession.remember.is_(False),
        AuthSession.last_seen_at > bindparam("seen_since", type_=UTCDateTime),
        AuthSession.created_at > bindparam("started_since", type_=UTCDateTime),
    ),
)


@dataclass(frozen=True)
class FoundAuthSession:
    """A live auth session and its user, who may have been deactivated since."""

    user: CurrentUser
    auth_session_id: int
    is_active: bool
    stale: bool  # last_seen_at is over a minute old: note the activity


class SignedIn(NamedTuple):
    """A user (`UserRow`'s fields) by an auth session of theirs, live or not."""

    id: int
    username: str
    email: str
    created_at: datetime
    email_verified: bool
    two_factor: bool
    is_active: bool
    auth_session_id: int
    remember: bool
    started_at: datetime
    last_seen_at: datetime
    security_stamp: int


SIGNED_IN = Read(
    generic_plan(
        select(
            User.id,
            User.username,
            User.email,
            User.created_at,
            User.email_verified,
            User.two_factor,
            User.is_active,
            AuthSession.id.label("auth_session_id"),
            AuthSession.remember,
            AuthSession.created_at.label("started_at"),
            AuthSession.last_seen_at,
            AuthSession.security_stamp,
        )
        .join(User, User.id == AuthSession.user_id)
        .where(AuthSession.id_digest == bindparam("digest"), STAMPED)
    ),
    SignedIn,
)


async def find_auth_session(store: Store, *, secret: str, lifetime: Lifetime) -> FoundAuthSession | None:
    """The live auth session with this secret and its user, in one indexed query (none when the
    account's security changed since it began)."""
    row = await store.row(SIGNED_IN, digest=digest(secret))
    now = utcnow()
    if row is None or lifetime.expired(
        remember=row.remember, started_at=row.started_at, last_seen_at=row.last_seen_at, now=now
    ):
        return None
    user = CurrentUser(
        row.id,
        row.username,
        row.email,
        row.created_at,
        row.email_verified,
        row.two_factor,
        auth_session_id=row.auth_session_id,
        security_stamp=row.security_stamp,
    )
    return FoundAuthSession(
        user, row.auth_session_id, row.is_active, stale=now - row.last_seen_at >= TOUCH_INTERVAL
    )


async def start_auth_session(
    store: Store, *, user_id: int, remember: bool, user_agent: str, security_stamp: int
) -> str:
    """Record a new sign-in under the security stamp its checks saw, and return its secret (for the
    cookie; only its digest is stored)."""
    secret = new_secret()
    await store.execute(
        insert(AuthSession).values(
            id_digest=digest(secret),
            user_id=user_id,
            remember=remember,
            user_agent=user_agent[:255],
            security_stamp=security_stamp,
        )
    )
    return secret


async def touch_auth_session(store: Store, *, auth_session_id: int) -> None:
    """Record activity on the auth session now."""
    await store.execute(
        update(AuthSession).where(AuthSession.id == auth_session_id).values(last_seen_at=utcnow())
    )


class AuthSessionRow(NamedTuple):
    """A live sign-in as its user's settings page lists it."""

    id: int
    user_agent: str
    remember: bool
    created_at: datetime
    last_seen_at: datetime


AUTH_SESSIONS = Read(
    select(
        AuthSession.id,
        AuthSession.user_agent,
        AuthSession.remember,
        AuthSession.created_at,
        AuthSession.last_seen_at,
    )
    .join(User, User.id == AuthSession.user_id)
    .where(AuthSession.user_id == bindparam("user_id"), LIVE, STAMPED)
    .order_by(AuthSession.last_seen_at.desc()),
    AuthSessionRow,
)


async def list_auth_sessions(store: Store, *, user_id: int, lifetime: Lifetime) -> list[AuthSessionRow]:
    """The user's live auth sessions, most recently active first."""
    return await store.rows(AUTH_SESSIONS, user_id=user_id, **lifetime.live_since(utcnow()))


async def end_auth_session(store: Store, *, auth_session_id: int) -> None:
    await store.execute(delete(AuthSession).where(AuthSession.id == auth_session_id))
    store.revoked()  # its open streams end (live/)


async def end_other_auth_sessions(store: Store, *, user_id: int, keep_id: int | None) -> int:
    """End every auth session of the user except `keep_id`, which takes the user's security stamp
    as it is now (the session that changed the account's security stays signed in); returns how
    many ended."""
    statement = delete(AuthSession).where(AuthSession.user_id == user_id)
    if keep_id is not None:
        statement = statement.where(AuthSession.id != keep_id)
        user_stamp = select(User.security_stamp).where(User.id == user_id).scalar_subquery()
        await store.execute(
            update(AuthSession)
            .where(AuthSession.id == keep_id, AuthSession.user_id == user_id)
            .values(security_stamp=user_stamp)
        )
    store.revoked()
    return (await store.execute(statement)).rowcount


# Made under a stamp that is no longer its user's (a correlated subquery: no join in a DELETE).
RESTAMPED = AuthSession.security_stamp != (
    select(User.security_stamp).where(User.id == AuthSession.user_id).scalar_subquery()
)


async def delete_expired_auth_sessions(store: Store, *, lifetime: Lifetime) -> int:
    """Delete every auth session that has ended (no cookie can use them); returns how many."""
    bounds = lifetime.live_since(utcnow())
    ended = or_(not_(LIVE), RESTAMPED)
    return (await store.execute(delete(AuthSession).where(ended), **bounds)).rowcount
