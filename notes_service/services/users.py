"""Accounts: registration, sign-in checks, password changes, deactivation and reactivation.

Hashing and verifying go through `security.PasswordHasher`, which runs bcrypt in its own thread pool.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import begin_write
from ..models import User
from ..security import PasswordHasher

USERNAME_TAKEN = "Username already taken."
EMAIL_TAKEN = "Email already registered."


class Conflict(Exception):
    """A username or email that belongs to someone else; `fields` maps field to message."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(fields)
        self.fields = fields


async def get_user(session: AsyncSession, *, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.strip().lower()))


async def find_conflicts(session: AsyncSession, *, username: str, email: str) -> dict[str, str]:
    """Which of username/email are already taken (usernames compare case-insensitively)."""
    rows = await session.execute(
        select(User.username_key, User.email).where(
            (User.username_key == username.lower()) | (User.email == email.lower())
        )
    )
    conflicts: dict[str, str] = {}
    for username_key, taken_email in rows:
        if username_key == username.lower():
            conflicts["username"] = USERNAME_TAKEN
        if taken_email == email.lower():
            conflicts["email"] = EMAIL_TAKEN
    return conflicts


async def register_user(
    session: AsyncSession, hasher: PasswordHasher, *, username: str, email: str, password: str
) -> User:
    """Create an account, or raise Conflict naming the taken fields. The caller commits."""
    if conflicts := await find_conflicts(session, username=username, email=email):
        raise Conflict(conflicts)
    password_hash = await hasher.hash(password)
    await begin_write(session)
    user = User(
        username=username,
        username_key=username.lower(),
        email=email.lower(),
        password_hash=password_hash,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as error:  # somebody took it between our check and our insert
        await session.rollback()
        raise Conflict(
            await find_conflicts(session, username=username, email=email) or {"username": USERNAME_TAKEN}
        ) from error
    return user


async def authenticate(
    session: AsyncSession, hasher: PasswordHasher, *, email: str, password: str
) -> User | None:
    """The user whose email and password these are (active or not), else None.

    Unknown emails are checked against a dummy hash so both answers take as long. A hash made with
    an outdated cost is replaced; the caller commits.
    """
    user = await get_user_by_email(session, email=email)
    await session.commit()  # release the connection while bcrypt runs
    ok, new_hash = await hasher.verify(password, user.password_hash if user else None)
    if not ok or user is None:
        return None
    if new_hash is not None:
        await begin_write(session)
        await session.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
    return user


async def set_password(session: AsyncSession, hasher: PasswordHasher, *, user_id: int, password: str) -> None:
    """Store a new password hash; the caller also ends sessions and tokens."""
    password_hash = await hasher.hash(password)
    await begin_write(session)
    await session.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))


async def deactivate_user(session: AsyncSession, *, email: str) -> User | None:
    """Mark an account inactive; its sessions and tokens stop working at the next request."""
    await begin_write(session)
    user = await get_user_by_email(session, email=email)
    if user is not None:
        user.is_active = False
        await session.flush()
    return user


async def reactivate_user(session: AsyncSession, *, email: str) -> User | None:
    """Let a deactivated account sign in again; the caller ends what predates it (sessions, tokens)."""
    await begin_write(session)
    user = await get_user_by_email(session, email=email)
    if user is not None:
        user.is_active = True
        await session.flush()
    return user
