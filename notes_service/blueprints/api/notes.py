"""API notes: list (keyset pages), create, read, update, replace, delete — the caller's own only.

Reads send the note's `ETag`; `If-None-Match` → 304. Changes take `If-Match` → 412 when the note
has moved on (http/etags.py); the version check is in the UPDATE itself (services/notes.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from quart import Blueprint, Response, jsonify, request

from ...data import Store, current_store
from ...http.auth import find_token
from ...http.etags import etag, if_match_versions, not_modified
from ...http.idempotency import idempotency_key, replay, request_digest
from ...http.links import external_url
from ...http.schemas import (
    ConditionalRead,
    ConditionalWrite,
    IdempotentCreate,
    NoContent,
    NoteCreate,
    NoteHeaders,
    NoteOut,
    NotePatch,
    NoteReplace,
    NotesQuery,
)
from ...http.shapes import NOTE
from ...services import first_page, idempotency, notes, search, tags, tokens
from ...services.notes import Position
from ...services.rows import NoteRow, SearchHit, TokenPageRow
from ...services.search import SearchPosition
from ...services.search_query import parse
from ...services.users import CurrentUser
from .cursors import Cursors, link_next
from .responses import no_content, note_response
from .routes import api_route

blueprint = Blueprint("api_notes", __name__, url_prefix="/api/notes")
CURSORS = Cursors("notes-service cursor")
DEFAULT_LIMIT: int = NotesQuery.model_fields["limit"].default


def encode_cursor(position: Position | SearchPosition) -> str:
    """An opaque, signed token for "the page after this note" (in list or in search order)."""
    if isinstance(position, SearchPosition):
        return CURSORS.encode(["s", position.title_first, position.id])
    return CURSORS.encode([int(position.is_pinned), position.created_at.isoformat(), position.id])


def _search_position(values: Any) -> SearchPosition:
    kind, title_first, note_id = values
    if kind != "s":
        raise ValueError(kind)
    return SearchPosition(int(title_first), int(note_id))


def _list_position(values: Any) -> Position:
    pinned, created_at, note_id = values
    return Position(bool(pinned), datetime.fromisoformat(created_at), int(note_id))


async def _check_and_read_first_page(store: Store, secret: str) -> tokens.FoundToken | None:
    """The token check; for a plain first page (no query string: the default limit, no cursor, no
    search) it also reads the page, in the same statement where the store batches reads (on
    PostgreSQL one round trip instead of two): the user it finds then holds the page, which
    `list_notes` asks for (`first_page.list_notes_after`)."""
    if request.args:
        return await find_token(store, secret)
    return await first_page.find_token_with_first_page(store, secret=secret, limit=DEFAULT_LIMIT + 1)


@api_route(
    blueprint.get(""),
    token=_check_and_read_first_page,
    tag="notes",
    query=NotesQuery,
    responses=[(list[NoteOut], 200)],
    errors=(400, 401, 422),
)
async def list_notes(user: CurrentUser, query: NotesQuery) -> Any:
    """The caller's notes, pinned first then newest; with `q`, the notes matching it, best first;
    with `tag` (or `tag:x` in `q`), only the notes with that tag. `Link: rel="next"` when more remain."""
    search_query = parse(query.q or "").with_tag(query.tag)
    searching = bool(search_query.terms)
    store = current_store()
    page: list[SearchHit] | list[NoteRow] | list[TokenPageRow]
    last: Position | SearchPosition | None = None  # where this page ends, when more follow
    if searching or search_query.nothing:
        found = CURSORS.decode(query.cursor, _search_position) if query.cursor is not None else None
        page = hits = await search.search_notes_after(
            store, author_id=user.id, query=search_query, after=found, limit=query.limit + 1
        )
        if len(hits) > query.limit:
            last = SearchPosition.of(hits[query.limit - 1])
    else:
        after = CURSORS.decode(query.cursor, _list_position) if query.cursor is not None else None
        listed: list[NoteRow] | list[TokenPageRow]
        if search_query.tags:
            listed = await tags.list_tagged_after(
                store, author_id=user.id, tags=search_query.tags, after=after, limit=query.limit + 1
            )
        else:  # the page read with the token when this is it (`_check_and_read_first_page`), else now
            listed = await first_page.list_notes_after(store, user, after=after, limit=query.limit + 1)
        page = listed
        if len(listed) > query.limit:
            last = Position.of(listed[query.limit - 1])
    response = jsonify(NOTE.all(page[: query.limit]))
    if last is not None:
        arguments = {"q": query.q} if parse(query.q or "") else {}
        if query.tag is not None:
            arguments["tag"] = query.tag
        link_next(response, ".list_notes", limit=query.limit, cursor=encode_cursor(last), **arguments)
    return response


@api_route(
    blueprint.post(""),
    tag="notes",
    body=NoteCreate,
    headers=IdempotentCreate,
    responses=[(NoteOut, 201, NoteHeaders)],
    errors=(400, 401, 413, 422),
)
async def create_note(user: CurrentUser, data: NoteCreate) -> Any:
    """Write a new note; `Location` names it. With an `Idempotency-Key`, a retry within 24 hours
    gets the first answer again and makes nothing."""
    key = idempotency_key()
    store = current_store()
    # Without a key the block is the note's create alone: one statement on PostgreSQL.
    async with store.write(alone=key is None):
        if key is not None:  # first, so that a concurrent retry waits for this answer
            digest = request_digest(data)
            kept = await idempotency.claim_key(store, user_id=user.id, key=key, request_digest=digest)
            if kept is not None:
                return replay(kept, digest)
        note = await notes.create_note(store, author_id=user.id, **data.model_dump())
        response = note_response(note, 201, Location=external_url(".get_note", note_id=note.id))
        if key is not None:
            body = await response.get_data(as_text=True)
            location = response.headers["Location"]
            await idempotency.keep_answer(
                store, user_id=user.id, key=key, status=201, body=body, location=location
            )
    return response


@api_route(
    blueprint.get("/<id:note_id>"),
    tag="notes",
    headers=ConditionalRead,
    responses=[(NoteOut, 200, NoteHeaders), (NoContent, 304)],
    errors=(401, 403, 404),
)
async def get_note(user: CurrentUser, note_id: int) -> Any:
    """One note with its `ETag`: 304 when `If-None-Match` holds it, 403 when it is someone else's,
    404 when there is none (or it is in the trash)."""
    note = await notes.get_note(current_store(), note_id=note_id, author_id=user.id)
    if not not_modified(note.id, note.version):
        return note_response(note)
    response = no_content()
    response.status_code = 304
    response.headers["ETag"] = etag(note.id, note.version)
    return response


@api_route(
    blueprint.patch("/<id:note_id>"),
    tag="notes",
    body=NotePatch,
    headers=ConditionalWrite,
    responses=[(NoteOut, 200, NoteHeaders)],
    errors=(400, 401, 403, 404, 412, 413, 422),
)
async def patch_note(user: CurrentUser, data: NotePatch, note_id: int) -> Any:
    """Change only the fields given."""
    return await _save(user, note_id, data.model_dump(exclude_unset=True))


@api_route(
    blueprint.put("/<id:note_id>"),
    tag="notes",
    body=NoteReplace,
    headers=ConditionalWrite,
    responses=[(NoteOut, 200, NoteHeaders)],
    errors=(400, 401, 403, 404, 412, 413, 422),
)
async def replace_note(user: CurrentUser, data: NoteReplace, note_id: int) -> Any:
    """Replace title, content and pin at once (and the tags, when `tags` is sent)."""
    return await _save(
        user, note_id, data.model_dump(exclude=None if "tags" in data.model_fields_set else {"tags"})
    )


@api_route(
    blueprint.delete("/<id:note_id>"),
    tag="notes",
    headers=ConditionalWrite,
    responses=[(NoContent, 204)],
    errors=(401, 403, 404, 412),
)
async def delete_note(user: CurrentUser, note_id: int) -> Any:
    """Move a note to the trash (`/api/trash` lists, restores and purges it)."""
    store = current_store()
    async with store.write():
        await notes.trash_note(store, note_id=note_id, author_id=user.id, expected=if_match_versions(note_id))
    return no_content()


async def _save(user: CurrentUser, note_id: int, changes: dict[str, Any]) -> Response:
    store = current_store()
    async with store.write():
        note = await notes.update_note(
            store, note_id=note_id, author_id=user.id, expected=if_match_versions(note_id), **changes
        )
    return note_response(note)
