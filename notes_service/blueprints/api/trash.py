"""API trash: list (keyset pages, each note with `deleted_at`), restore, delete for good."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quart import Blueprint, jsonify

from ...data import current_store
from ...http.schemas import NoContent, NoteHeaders, NoteOut, TrashedNoteOut, TrashQuery
from ...http.shapes import TRASHED_NOTE
from ...services import trash
from ...services.trash import TrashPosition
from ...services.users import CurrentUser
from .cursors import Cursors, link_next
from .responses import no_content, note_response
from .routes import api_route

blueprint = Blueprint("api_trash", __name__, url_prefix="/api/trash")
CURSORS = Cursors("notes-service trash cursor")


def encode_trash_cursor(position: TrashPosition) -> str:
    return CURSORS.encode([position.deleted_at.isoformat(), position.id])


def _trash_position(values: Any) -> TrashPosition:
    deleted_at, note_id = values
    return TrashPosition(datetime.fromisoformat(deleted_at), int(note_id))


def decode_trash_cursor(cursor: str) -> TrashPosition:
    """A tampered or malformed cursor is a 400."""
    return CURSORS.decode(cursor, _trash_position)


@api_route(
    blueprint.get(""),
    tag="trash",
    query=TrashQuery,
    responses=[(list[TrashedNoteOut], 200)],
    errors=(400, 401, 422),
)
async def list_trash(user: CurrentUser, query: TrashQuery) -> Any:
    """The caller's trashed notes, most recently deleted first; `Link: rel="next"` when more remain."""
    after = decode_trash_cursor(query.cursor) if query.cursor is not None else None
    page = await trash.list_trash(current_store(), author_id=user.id, after=after, limit=query.limit + 1)
    response = jsonify(TRASHED_NOTE.all(page[: query.limit]))
    if len(page) > query.limit:
        last = page[query.limit - 1]
        cursor = encode_trash_cursor(TrashPosition(last.deleted_at, last.id))
        link_next(response, ".list_trash", limit=query.limit, cursor=cursor)
    return response


@api_route(
    blueprint.post("/<id:note_id>/restore"),
    tag="trash",
    responses=[(NoteOut, 200, NoteHeaders)],
    errors=(401, 403, 404),
)
async def restore_note(user: CurrentUser, note_id: int) -> Any:
    """Take a note out of the trash: 403 when it is someone else's, 404 when it is not in the trash."""
    store = current_store()
    async with store.write():
        note = await trash.restore_note(store, note_id=note_id, author_id=user.id)
    return note_response(note)


@api_route(
    blueprint.delete("/<id:note_id>"),
    tag="trash",
    responses=[(NoContent, 204)],
    errors=(401, 403, 404),
)
async def purge_note(user: CurrentUser, note_id: int) -> Any:
    """Delete a trashed note for good."""
    store = current_store()
    async with store.write():
        await trash.purge_note(store, note_id=note_id, author_id=user.id)
    return no_content()
