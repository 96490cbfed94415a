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
from sqlalchemy import Integer, bindparam, select

from ..data import Database
from ..data.models import Note
from ..services.users import CurrentUser
from .schemas import ExportedNoteOut, UserOut
from .shapes import columns_of, dump, dump_all

BATCH = 500
FILENAME = "notes-export.json"
NOTES_AFTER = (
    select(*columns_of(ExportedNoteOut, Note))
    .where(Note.author_id == bindparam("author_id"), Note.id > bindparam("after", type_=Integer))
    .order_by(Note.id)
    .limit(BATCH)
)


async def export_body(database: Database, user: CurrentUser) -> AsyncIterator[bytes]:
    """The export as chunks of JSON: the user, then the notes a batch at a time, oldest first."""
    store = database.store()
    yield b'{"user":' + orjson.dumps(dump(UserOut, user)) + b',"notes":['
    after, first = 0, True
    while rows := await store.rows(NOTES_AFTER, author_id=user.id, after=after):
        notes = orjson.dumps(dump_all(ExportedNoteOut, rows))[1:-1]  # the objects, without the brackets
        yield notes if first else b"," + notes
        after, first = rows[-1].id, False
    yield b"]}"


def export_response(user: CurrentUser, *, attachment: bool) -> Response:
    """A streamed response of the user's export (a download when `attachment`)."""
    database: Database = current_app.extensions["database"]
    response = Response(export_body(database, user), mimetype="application/json")
    if attachment:
        response.headers["Content-Disposition"] = f'attachment; filename="{FILENAME}"'
    return response
