"""Emailed one-time links (password reset, email confirmation): 256 random bits, digest stored.

A link is bound to its purpose, its account and the address it was sent to; it works once (using it
deletes its row, atomically, so two requests racing with one link cannot both succeed) and not after
`expires_at`. Only the SHA-256 digest of the secret is kept, as for API tokens.

What voids a link early is deleted in the transaction that causes it (`void_links`): a password
change voids reset and change links, a confirmed change every other link. Using a link first locks
its account's row, as a password change and the issue of a change link do (`users.still_current`),
so none of these interleave on PostgreSQL: a link opened while the password changes waits, then finds
itself deleted; two requests using two links of one account never deadlock.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import bindparam, delete, insert, select

from ..data import Read, Store, UTCDateTime, utcnow
from ..data.models import LinkToken, User
from .security import digest, new_secret

RESET = "password_reset"
CONFIRM = "email_confirm"  # confirms the account's address
CHANGE = "email_change"  # makes the address it was sent to the account's (after a confirmation)
LIFETIMES = {RESET: timedelta(minutes=60), CONFIRM: timedelta(days=7), CHANGE: timedelta(days=7)}
EVERY_PURPOSE = tuple(LIFETIMES)
OF_THE_PASSWORD = (RESET, CHANGE)  # what a password change voids (SPEC §7)


class Link(NamedTuple):
    """A valid link: its account, the address it was sent to, and the account's address now."""

    user_id: int
    email: str
    account_email: str


class UsedLink(NamedTuple):
    """A link used up: its account and the address it was sent to."""

    user_id: int
    email: str


class _Account(NamedTuple):
    email: str
    is_active: bool


LINK = Read(
    select(LinkToken.user_id, LinkToken.email, User.email.label("account_email"))
    .join(User, User.id == LinkToken.user_id)
    .where(
        LinkToken.token_digest == bindparam("digest"),
        LinkToken.purpose == bindparam("purpose"),
        LinkToken.expires_at > bindparam("now", type_=UTCDateTime),
        User.is_active.is_(True),
    ),
    Link,
)
ACCOUNT = Read(select(User.email, User.is_active).where(User.id == bindparam("id")), _Account)
# The account of the link with this digest, its row locked until commit (PostgreSQL; SQLite writers
# are serial); no row when there is no such link.
LOCK_ACCOUNT = (
    select(User.id)
    .where(
        User.id
        == select(LinkToken.user_id).where(LinkToken.token_digest == bindparam("digest")).scalar_subquery()
    )
    .with_for_update()
)


def expiry(purpose: str, now: datetime) -> datetime:
    return now + LIFETIMES[purpose]


def usable(purpose: str, *, link_email: str, account_email: str) -> bool:
    """A reset or confirmation link works only while the account still has the address it was sent
    to (a link read by a former owner of the address must not open the account, nor bring an old
    address back); a change link names the new address, so it stays usable."""
    return purpose == CHANGE or link_email == account_email


async def issue_link(store: Store, *, user_id: int, purpose: str, email: str) -> str:
    """Create a link for the user and address; returns its secret (only the digest is stored)."""
    secret = new_secret()
    now = utcnow()
    await store.execute(
        insert(LinkToken).values(
            user_id=user_id,
            purpose=purpose,
            token_digest=digest(secret),
            email=email,
            created_at=now,
            expires_at=expiry(purpose, now),
        )
    )
    return secret


async def find_link(store: Store, *, secret: str, purpose: str) -> Link | None:
    """The valid link with this secret (`user_id`, `email`), without using it up; else None."""
    row = await store.row(LINK, digest=digest(secret), purpose=purpose, now=utcnow())
    if row is None or not usable(purpose, link_email=row.email, account_email=row.account_email):
        return None
    return row


async def use_link(store: Store, *, secret: str, purpose: str) -> UsedLink | None:
    """Inside a write block: use the link up (delete it) and return it (`user_id`, `email`) when it
    was valid; None when it was unknown, used, expired, for another purpose or its account is
    inactive."""
    token_digest = digest(secret)
    # The account's row first: a password change or confirmed change voiding this link meanwhile
    # either committed before (the link is gone) or waits for this use; and no deadlock.
    if await store.scalar(LOCK_ACCOUNT, digest=token_digest) is None:
        return None
    deleted = (
        await store.execute(
            delete(LinkToken)
            .where(
                LinkToken.token_digest == token_digest,
                LinkToken.purpose == purpose,
                LinkToken.expires_at > utcnow(),
            )
            .returning(LinkToken.user_id, LinkToken.email)
        )
    ).one_or_none()
    if deleted is None:
        return None
    used = UsedLink._make(deleted)
    account = await store.row(ACCOUNT, id=used.user_id)
    if account is None or not account.is_active:
        return None
    if not usable(purpose, link_email=used.email, account_email=account.email):
        return None
    return used


async def void_links(store: Store, *, user_id: int, purposes: Collection[str]) -> int:
    """Delete the user's links for these purposes, so none outlives what voided it; returns how many."""
    result = await store.execute(
        delete(LinkToken).where(LinkToken.user_id == user_id, LinkToken.purpose.in_(purposes))
    )
    return result.rowcount


async def delete_expired_links(store: Store) -> int:
    """Delete every link past its expiry (none can be used); returns how many."""
    return (await store.execute(delete(LinkToken).where(LinkToken.expires_at <= utcnow()))).rowcount
