"""Accounts: registration, password checks, password changes and deactivation.

Passwords are hashed and verified by `security.PasswordHasher` (bcrypt, in its own threads) before
any write block opens, so no transaction, and on SQLite no writer, waits for bcrypt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from ..data import Read, Store
from ..data.models import User
from ..data.rowtypes import columns
from .errors import Conflict
from .rows import UserRow
from .security import PasswordHasher

USERNAME_TAKEN = "Username already taken."
EMAIL_TAKEN = "Email already registered."


@dataclass(frozen=True)
class CurrentUser:
    """The signed-in user of a request, with the browser login or the API token it came with."""

    id: int
    username: str
    email: str
    created_at: datetime
    email_verified: bool
    two_factor: bool
    auth_session_id: int | None = None
    token_id: int | None = None
    # The security stamp the auth session or token carries (the user's when it was looked up).
    security_stamp: int | None = None

    @classmethod
    def of(cls, row: UserRow) -> CurrentUser:
        """The user of `row`, signed in by neither an auth session nor a token."""
        return cls(*row)

    @property
    def public(self) -> UserRow:
        """What the API shows of the user (`UserOut`)."""
        return UserRow(
            self.id, self.username, self.email, self.created_at, self.email_verified, self.two_factor
        )


@dataclass(frozen=True)
class Verified:
    """A password that matched: which user, and what the decision it leads to rests on: the hash it
    matched, the account's security stamp, its active flag and two-factor state as read with the
    hash (`still_current` checks them again where the decision is written)."""

    user_id: int
    is_active: bool
    password_hash: str
    security_stamp: int
    upgraded_hash: str | None = None  # the same password at today's bcrypt cost, when that changed
    two_factor: bool = False  # the sign-in also needs a one-time code (SPEC §8)

    @property
    def current_hash(self) -> str:
        """The hash stored once the sign-in goes through (`still_current` stores an upgrade)."""
        return self.upgraded_hash or self.password_hash


class Credentials(NamedTuple):
    id: int
    is_active: bool
    password_hash: str
    two_factor: bool
    security_stamp: int


class Taken(NamedTuple):
    username_key: str
    email: str


USER = Read(select(*columns(UserRow, User)).where(User.id == bindparam("id")), UserRow)
CREDENTIALS = columns(Credentials, User)
CREDENTIALS_BY_EMAIL = Read(select(*CREDENTIALS).where(User.email == bindparam("email")), Credentials)
CREDENTIALS_BY_ID = Read(select(*CREDENTIALS).where(User.id == bindparam("id")), Credentials)
# The same, locking the user's row until the write block ends (PostgreSQL; SQLite writers are serial).
CREDENTIALS_FOR_UPDATE = Read(
    select(*CREDENTIALS).where(User.id == bindparam("id")).with_for_update(), Credentials
)
EMAIL_OWNER = select(User.id).where(User.email == bindparam("email"))
CONFLICTS = Read(
    select(User.username_key, User.email).where(
        (User.username_key == bindparam("username_key")) | (User.email == bindparam("email"))
    ),
    Taken,
)


async def find_conflicts(store: Store, *, username: str, email: str) -> dict[str, str]:
    """Which of username/email are already taken (usernames compare case-insensitively)."""
    rows = await store.rows(CONFLICTS, username_key=username.lower(), email=email.lower())
    conflicts: dict[str, str] = {}
    for row in rows:
        if row.username_key == username.lower():
            conflicts["username"] = USERNAME_TAKEN
        if row.email == email.lower():
            conflicts["email"] = EMAIL_TAKEN
    return conflicts


async def email_taken(store: Store, *, email: str) -> bool:
    """Whether an account has this address."""
    return await store.scalar(EMAIL_OWNER, email=email.strip().lower()) is not None


async def create_user(store: Store, *, username: str, email: str, password_hash: str) -> Verified:
    """Create an account, or raise Conflict naming the taken fields (inside a write block)."""
    if conflicts := await find_conflicts(store, username=username, email=email):
        raise Conflict(conflicts)
    new_user = insert(User).values(
        username=username, username_key=username.lower(), email=email.lower(), password_hash=password_hash
    )
    try:
        async with store.savepoint():
            created = (await store.execute(new_user.returning(User.id, User.security_stamp))).one()
    except IntegrityError as error:  # PostgreSQL: somebody took it between our check and our insert
        raise Conflict(
            await find_conflicts(store, username=username, email=email) or {"username": USERNAME_TAKEN}
        ) from error
    return Verified(
        user_id=created.id, is_active=True, password_hash=password_hash, security_stamp=created.security_stamp
    )


async def get_user(store: Store, *, user_id: int) -> CurrentUser | None:
    """The user, as signed in by nothing (`public`: what the API shows of them)."""
    row = await store.row(USER, id=user_id)
    return None if row is None else CurrentUser.of(row)


async def check_password(
    store: Store,
    hasher: PasswordHasher,
    *,
    password: str,
    email: str | None = None,
    user_id: int | None = None,
) -> Verified | None:
    """The account (by email or id, active or not) whose password this is, else None.

    An unknown account is checked against a dummy hash, so both answers take as long.
    """
    if email is not None:
        row = await store.row(CREDENTIALS_BY_EMAIL, email=email.strip().lower())
    else:
        row = await store.row(CREDENTIALS_BY_ID, id=user_id)
    ok, upgraded_hash = await hasher.verify(password, row.password_hash if row else None)
    if not ok or row is None:
        return None
    return Verified(
        row.id,
        row.is_active,
        row.password_hash,
        row.security_stamp,
        upgraded_hash,
        two_factor=row.two_factor,
    )


async def still_current(store: Store, verified: Verified) -> bool:
    """Inside a write block: nothing the decision rests on has changed since the password was
    checked: the hash, the security stamp, the active flag, whether two-factor sign-in is on. So a
    sign-in that raced a password change, 2FA enrolment or deactivation creates nothing. Locks the
    user's row until commit (PostgreSQL; SQLite writers are serial) and stores an upgraded hash."""
    row = await store.row(CREDENTIALS_FOR_UPDATE, id=verified.user_id)
    if row is None or (row.password_hash, row.security_stamp, row.is_active, row.two_factor) != (
        verified.password_hash,
        verified.security_stamp,
        verified.is_active,
        verified.two_factor,
    ):
        return False
    if verified.upgraded_hash is not None:
        await set_password_hash(store, user_id=verified.user_id, password_hash=verified.upgraded_hash)
    return True


async def set_password_hash(store: Store, *, user_id: int, password_hash: str) -> None:
    """Store a rehash of the same password; a new one goes through `account_mail.set_password`."""
    await store.execute(update(User).where(User.id == user_id).values(password_hash=password_hash))


async def bump_security_stamp(store: Store, *, user_id: int) -> None:
    """A change of the account's security: every auth session, token and pending sign-in made
    before it (or while it was in flight) stops working, but for any the caller re-stamps."""
    await store.execute(update(User).where(User.id == user_id).values(security_stamp=User.security_stamp + 1))
    store.revoked()  # their open streams end (live/)


async def delete_user(store: Store, *, user_id: int) -> bool:
    """Delete the account; its notes, auth sessions, tokens, links and unsent messages go with it
    (ON DELETE CASCADE on every table that names a user). False when there was no such account."""
    result = await store.execute(delete(User).where(User.id == user_id))
    store.revoked()  # its open streams end (live/)
    return bool(result.rowcount)


async def set_active(store: Store, *, email: str, active: bool) -> int | None:
    """(De)activate an account; its sessions and tokens stop working at the next request (the
    security stamp changes either way). Returns the user's id, or None when no account has this email."""
    result = await store.execute(
        update(User)
        .where(User.email == email.strip().lower())
        .values(is_active=active, security_stamp=User.security_stamp + 1)
        .returning(User.id)
    )
    if not active:
        store.revoked()  # its open streams end (live/)
    return result.scalar_one_or_none()
