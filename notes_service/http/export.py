"""The export of an account (SPEC §7): `{"user": {...}, "notes": [...]}`, written as it is read;
notes in the trash are in it too, with their `deleted_at`.

Notes are read in keyset batches of `BATCH` (by id) and each batch is written and forgotten before
the next is read, so memory stays the same for 100 or 100,000 notes. The body is produced after
the route has returned, outside its request, so it reads through a store of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from quart import Response, current_app

from ..data import Database
from ..services import notes
from ..services.users import CurrentUser
from .shapes import EXPORTED_NOTE, USER

BATCH = 500
FILENAME = "notes-export.json"


async def export_body(database: Database, user: CurrentUser) -> AsyncIterator[bytes]:
    """The export as chunks of JSON: the user, then the notes a batch at a time, oldest first."""
    store = database.store()
    yield b'{"user":' + orjson.dumps(USER.one(user.public)) + b',"notes":['
    after, first = 0, True
    while rows := await notes.notes_to_export(store, author_id=user.id, after=after, limit=BATCH):
        batch = orjson.dumps(EXPORTED_NOTE.all(rows))[1:-1]  # the objects, without the brackets
        yield batch if first else b"," + batch
        after, first = rows[-1].id, False
    yield b"]}"


def export_response(user: CurrentUser, *, attachment: bool) -> Response:
    """A streamed response of the user's export (a download when `attachment`)."""
    database: Database = current_app.extensions["database"]
    response = Response(export_body(database, user), mimetype="application/json")
    if attachment:
        response.headers["Content-Disposition"] = f'attachment; filename="{FILENAME}"'
    return response
