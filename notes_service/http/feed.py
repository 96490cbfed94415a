"""The change feed over HTTP (SPEC §10): its cursors, and its changes as JSON.

`GET /api/changes` and the live streams (an event's `id:` is a cursor) share them. A cursor names
its user and a place in that user's feed (`services.changes.Since`), signed with an HMAC of the
app's secret key and written base64url: opaque to clients, and one that was tampered with, signed
with another key or names another user is a 400 `Invalid cursor`. The same place always gives the
same cursor, so "nothing new" hands back the cursor it was given.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable
from functools import lru_cache, partial
from typing import Any

from quart import current_app

from ..data import Store
from ..services import changes
from ..services.changes import ChangesPage, Counters, Since
from ..services.errors import CursorExpired
from ..services.rows import ChangedNoteRow, DeletedNoteRow
from .errors import HTTPError
from .shapes import EXPORTED_NOTE

INVALID_CURSOR = "Invalid cursor"
CURSOR_EXPIRED = "Cursor expired: sync from the start"
CURSOR_MAX = 128  # characters; ours are under 60
_TAG = 16  # bytes of HMAC-SHA256 kept: forging one is 2^128 guesses
_SALT = b"notes-service change feed cursor\x00"


@lru_cache(maxsize=4)
def _key(secret_key: str) -> bytes:
    """The cursors' own key, derived from the secret key: a cursor is no other signature's."""
    return hashlib.sha256(_SALT + secret_key.encode()).digest()


def _app_key() -> bytes:
    return _key(current_app.config["NOTES"].secret_key)


def _tag(payload: bytes, key: bytes) -> bytes:
    return hmac.digest(key, payload, "sha256")[:_TAG]


def _encode(key: bytes, user_id: int, since: Since) -> str:
    place = since if since.markers_after > since.seq else since[:1]
    payload = ".".join(str(number) for number in (user_id, *place)).encode()
    return base64.urlsafe_b64encode(payload + _tag(payload, key)).rstrip(b"=").decode()


def encode_cursor(user_id: int, since: Since) -> str:
    """The user's place in their feed as an opaque, signed cursor."""
    return _encode(_app_key(), user_id, since)


def cursor_writer(user_id: int) -> Callable[[Since], str]:
    """`encode_cursor` for this user, usable outside the request (a stream's body runs after it)."""
    return partial(_encode, _app_key(), user_id)


def decode_cursor(user_id: int, cursor: str) -> Since:
    """The place a cursor of this user's names; 400 `Invalid cursor` for anything else."""
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
    except (ValueError, binascii.Error) as error:  # not base64url (a non-ASCII character is a ValueError)
        raise _invalid() from error
    payload, tag = raw[:-_TAG], raw[-_TAG:]
    if len(cursor) > CURSOR_MAX or not payload or not hmac.compare_digest(tag, _tag(payload, _app_key())):
        raise _invalid()
    owner, *place = (int(number) for number in payload.split(b"."))  # ours: well-formed
    if owner != user_id:
        raise _invalid()
    return Since(*place)


def _invalid() -> HTTPError:
    return HTTPError(400, INVALID_CURSOR, details={"since": INVALID_CURSOR})


async def read_page(
    store: Store, *, user_id: int, since: Since | None, limit: int, counters: Counters | None = None
) -> ChangesPage:
    """`changes.read_changes`, with an expired cursor as the 410 that says to sync from the start."""
    try:
        return await changes.read_changes(
            store, author_id=user_id, after=since, limit=limit, counters=counters
        )
    except CursorExpired as error:
        raise HTTPError(410, CURSOR_EXPIRED) from error


def change_json(change: ChangedNoteRow | DeletedNoteRow) -> dict[str, Any]:
    """A change as the feed writes it: `{"note": …}`, or `{"id": N, "deleted": true}` for a note
    deleted for good."""
    if isinstance(change, DeletedNoteRow):
        return {"id": change.id, "deleted": True}
    return {"note": EXPORTED_NOTE.one(change)}
