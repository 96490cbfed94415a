"""The mail outbox: messages written in the transaction of the change that causes them.

A route queues a message (`queue_message`) inside its own write block, so the message exists exactly
when the change does. The sender (mail/sender.py) claims due messages, delivers them outside any
transaction, then deletes each one (delivered, or given up after a day) or schedules its retry.

Claiming is safe across workers and hosts: on PostgreSQL the due rows are locked with
`FOR UPDATE SKIP LOCKED` (another sender skips them rather than waiting) and moved a lease ahead
before the transaction commits; on SQLite the write block itself (`BEGIN IMMEDIATE`) admits one
writer at a time, so the same SELECT-then-UPDATE is serial. A claimed message is due again only when
its lease ends, which is how a message a dead worker had claimed gets sent after all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import Integer, bindparam, delete, func, insert, select, update

from ..data import Read, Store, UTCDateTime, utcnow
from ..data.models import OutboxMessage
from ..data.rowtypes import columns

ERROR_MAX = 500
DUE = OutboxMessage.next_attempt_at <= bindparam("now", type_=UTCDateTime)
ANY_DUE = select(OutboxMessage.id).where(DUE).limit(1)
CLAIMABLE = (
    select(OutboxMessage.id)
    .where(DUE)
    .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
    .limit(bindparam("limit", type_=Integer))
    .with_for_update(skip_locked=True)
)


class Message(NamedTuple):
    """A claimed message, `attempts` counting this one."""

    id: int
    user_id: int | None
    recipient: str
    subject: str
    body: str
    created_at: datetime
    attempts: int
    pending_link: str | None  # a request whose link the sender makes (account_mail.resolve_request)
    security_stamp: int | None


MESSAGE_COLUMNS = columns(Message, OutboxMessage)


async def queue_message(
    store: Store, *, user_id: int | None, recipient: str, subject: str, body: str
) -> None:
    """Queue a message, due now (inside the write block of the change it reports)."""
    now = utcnow()
    await store.execute(
        insert(OutboxMessage).values(
            user_id=user_id,
            recipient=recipient,
            subject=subject,
            body=body,
            created_at=now,
            next_attempt_at=now,
        )
    )


async def fill_in(store: Store, *, message_id: int, user_id: int, body: str) -> None:
    """Make a request an ordinary message: its account and its body, link included, are known now
    (a retry sends this body again: one link per request)."""
    await store.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(user_id=user_id, body=body, pending_link=None, security_stamp=None)
    )


async def any_due(store: Store) -> bool:
    """Whether a message waits to be sent (a read: senders look before they open a write block)."""
    return await store.scalar(ANY_DUE, now=utcnow()) is not None


async def claim_due(store: Store, *, lease: timedelta, limit: int) -> list[Message]:
    """Inside a write block: take up to `limit` due messages for `lease` (no other sender sees them
    until it ends); returns their rows, `attempts` counting this one."""
    now = utcnow()
    ids = [row.id for row in await store.rows(CLAIMABLE, now=now, limit=limit)]
    if not ids:
        return []
    result = await store.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), DUE)
        .values(next_attempt_at=now + lease, attempts=OutboxMessage.attempts + 1)
        .returning(*MESSAGE_COLUMNS),
        now=now,
    )
    return sorted(map(Message._make, result), key=lambda message: message.id)


async def release(store: Store, *, message_ids: list[int]) -> None:
    """Give claimed messages back unattempted (a stopping sender): due again now."""
    await store.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids))
        .values(next_attempt_at=utcnow(), attempts=OutboxMessage.attempts - 1)
    )


async def delete_message(store: Store, *, message_id: int) -> None:
    """A message delivered or given up leaves the outbox (with any link it carried)."""
    await store.execute(delete(OutboxMessage).where(OutboxMessage.id == message_id))


async def retry_later(store: Store, *, message_id: int, at: datetime, error: str) -> None:
    """Schedule the next attempt and remember why this one failed (for `notes-service mail status`)."""
    await store.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .values(next_attempt_at=at, last_error=error[:ERROR_MAX])
    )


class Status(NamedTuple):
    """How many messages wait, how many of them failed at least once, and when the oldest was queued."""

    queued: int
    failing: int
    oldest: datetime | None


class Failing(NamedTuple):
    """A message whose last attempt failed."""

    id: int
    subject: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str


OUTBOX_STATUS = Read(
    select(
        func.count(OutboxMessage.id).label("queued"),
        func.count(OutboxMessage.last_error).label("failing"),
        func.min(OutboxMessage.created_at).label("oldest"),
    ),
    Status,
)
FAILING = Read(
    select(
        OutboxMessage.id,
        OutboxMessage.subject,
        OutboxMessage.created_at,
        OutboxMessage.attempts,
        OutboxMessage.next_attempt_at,
        OutboxMessage.last_error,
    )
    .where(OutboxMessage.last_error.is_not(None))
    .order_by(OutboxMessage.created_at)
    .limit(bindparam("limit", type_=Integer)),
    Failing,
)


async def outbox_status(store: Store, *, limit: int = 20) -> tuple[Status | None, list[Failing]]:
    """How many messages wait, how many of them failed at least once, and the oldest failing ones."""
    return await store.row(OUTBOX_STATUS), await store.rows(FAILING, limit=limit)
