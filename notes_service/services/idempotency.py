"""Answers kept for `POST /api/notes` sent with an `Idempotency-Key` (SPEC §10): a retry with the
key gets the first answer again and makes nothing.

The key's row is written first in the create's write block (`claim_key`), the answer into it at the
end (`keep_answer`), and both commit with the note. A concurrent request with the same key waits at
its own claim until the first block ends (PostgreSQL: on the row of the primary key; SQLite: write
blocks are serial), then reads the answer; if the first block rolled back, the key is free and the
second request makes the note. A key is its user's own and is kept `KEPT` (housekeeping deletes it
after; an expired row in the way is taken over by the next claim).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Executable

from ..data import Read, Store, UTCDateTime, utcnow
from ..data.models import IdempotencyKey

KEPT = timedelta(hours=24)


class KeptAnswer(NamedTuple):
    """The first answer to a key: its request's digest (to tell a retry from another request),
    status, body and `Location`."""

    request_digest: str
    status: int
    body: str
    location: str | None


def _claim(insert: Any) -> Executable:
    """INSERT the key, or take over its row when that one expired; RETURNING a row when it is ours."""
    statement = insert(IdempotencyKey).values(
        user_id=bindparam("owner"),
        key=bindparam("name"),
        request_digest=bindparam("digest"),
        status=0,
        body="",
        location=None,
        created_at=bindparam("now", type_=UTCDateTime),
    )
    claim: Executable = statement.on_conflict_do_update(
        index_elements=[IdempotencyKey.user_id, IdempotencyKey.key],
        set_={
            "request_digest": statement.excluded.request_digest,
            "status": 0,
            "body": "",
            "location": None,
            "created_at": statement.excluded.created_at,
        },
        where=IdempotencyKey.created_at < bindparam("expired", type_=UTCDateTime),
    ).returning(IdempotencyKey.key)
    return claim


CLAIM = {"sqlite": _claim(sqlite.insert), "postgresql": _claim(postgresql.insert)}
KEPT_ANSWER = Read(
    select(
        IdempotencyKey.request_digest, IdempotencyKey.status, IdempotencyKey.body, IdempotencyKey.location
    ).where(IdempotencyKey.user_id == bindparam("owner"), IdempotencyKey.key == bindparam("name")),
    KeptAnswer,
)
KEEP_ANSWER = (
    update(IdempotencyKey)
    .where(IdempotencyKey.user_id == bindparam("owner"), IdempotencyKey.key == bindparam("name"))
    .values(
        status=bindparam("answer_status"),
        body=bindparam("answer_body"),
        location=bindparam("answer_location"),
    )
)


async def claim_key(store: Store, *, user_id: int, key: str, request_digest: str) -> KeptAnswer | None:
    """In the create's write block, before anything else: None when this request is the key's
    first (the key is then held until the block ends), else the answer kept for it."""
    now = utcnow()
    claim = store.for_dialect(**CLAIM)
    claimed = await store.execute(
        claim, owner=user_id, name=key, digest=request_digest, now=now, expired=now - KEPT
    )
    if claimed.first() is not None:
        return None
    return await store.row(KEPT_ANSWER, owner=user_id, name=key)


async def keep_answer(
    store: Store, *, user_id: int, key: str, status: int, body: str, location: str | None
) -> None:
    """In the same write block: the answer a retry with the key will get."""
    await store.execute(
        KEEP_ANSWER,
        owner=user_id,
        name=key,
        answer_status=status,
        answer_body=body,
        answer_location=location,
    )


async def delete_expired_keys(store: Store) -> int:
    """Delete the keys older than `KEPT` (any user): housekeeping's job."""
    result = await store.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < utcnow() - KEPT))
    return result.rowcount
