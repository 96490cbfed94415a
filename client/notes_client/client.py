"""`NotesClient`: every `/api` route of notes-service as a typed async method.

    async with NotesClient("https://notes.example.com") as notes:
        await notes.login("ada@example.com", "correct horse battery")
        note = await notes.create_note(title="Groceries", content="eggs, milk")
        async for page in notes.list_notes():
            ...

A note the client has read carries the `ETag` the server sent with it; changing or deleting that
note sends it as `If-Match`, so a change made elsewhere meanwhile is a `PreconditionFailed` (with
the note as it is now) instead of being overwritten. The change feed and the live stream are in
`live.py`; this class hands them its connection.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import httpx

from . import live
from .accounts import Accounts
from .errors import Forbidden, NotFound, PreconditionFailed, ResponseError
from .http import HTTP, Retry, given, json_of
from .models import ChangesPage, Event, Note
from .pages import Pages, page_reader

NoteRef = Note | int


class NotesClient(Accounts):
    """A connection to one notes-service, optionally with a bearer token (`token`, or `login()`)."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        stream_timeout: float = 45.0,
        retry: Retry | None = None,
    ) -> None:
        """`stream_timeout`: how long the live stream may stay silent (heartbeats come every 15 s by
        default) before it counts as dropped and reconnects. `transport` is httpx's (tests pass an
        `httpx.MockTransport`); `retry` says how 429, 503 and lost connections are retried."""
        self.http = HTTP(
            base_url,
            token,
            transport=transport,
            timeout=timeout,
            stream_timeout=stream_timeout,
            retry=retry or Retry(),
        )

    @property
    def token(self) -> str | None:
        return self.http.token

    @token.setter
    def token(self, token: str | None) -> None:
        self.http.token = token

    async def __aenter__(self) -> NotesClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    # Notes

    def list_notes(
        self, *, q: str | None = None, tag: str | None = None, limit: int | None = None
    ) -> Pages[Note]:
        """`GET /api/notes`: pinned first, then newest; with `q` a search (best first); with `tag`
        only notes carrying it. `limit` notes a page (the server's default 50, at most 200)."""
        query = httpx.QueryParams(given(q=q, tag=tag, limit=limit))
        return Pages(page_reader(self.http, Note.from_json), _with_query("/api/notes", query))

    async def create_note(
        self,
        *,
        title: str,
        content: str,
        is_pinned: bool = False,
        tags: list[str] | None = None,
        idempotency_key: str | None = None,
    ) -> Note:
        """`POST /api/notes`. One `Idempotency-Key` (fresh unless given) rides on every retry of
        this call, so a retry after a lost answer returns the first note instead of a second."""
        key = idempotency_key or str(uuid.uuid4())
        body = given(title=title, content=content, is_pinned=is_pinned, tags=tags)
        response = await self.http.request(
            "POST", "/api/notes", json=body, headers={"Idempotency-Key": key}, replayable=True
        )
        return _note(response)

    async def get_note(self, note_id: int) -> Note:
        """`GET /api/notes/<id>`, with its ETag."""
        return _note(await self.http.request("GET", f"/api/notes/{note_id}", replayable=True))

    async def refresh_note(self, note: Note) -> Note:
        """The note as it is now: `note` itself when the server says it has not changed (304)."""
        headers = {"If-None-Match": note.etag} if note.etag else {}
        response = await self.http.request("GET", f"/api/notes/{note.id}", headers=headers, replayable=True)
        return note if response.status_code == 304 else _note(response)

    async def update_note(
        self,
        note: NoteRef,
        *,
        title: str | None = None,
        content: str | None = None,
        is_pinned: bool | None = None,
        tags: list[str] | None = None,
    ) -> Note:
        """`PATCH /api/notes/<id>`: change the fields given (None: leave as it is)."""
        body = given(title=title, content=content, is_pinned=is_pinned, tags=tags)
        return _note(await self._write("PATCH", note, body))

    async def replace_note(
        self,
        note: NoteRef,
        *,
        title: str,
        content: str,
        is_pinned: bool = False,
        tags: list[str] | None = None,
    ) -> Note:
        """`PUT /api/notes/<id>`: title, content and pin at once (tags only when given)."""
        body = given(title=title, content=content, is_pinned=is_pinned, tags=tags)
        return _note(await self._write("PUT", note, body))

    async def delete_note(self, note: NoteRef) -> None:
        """`DELETE /api/notes/<id>`: move the note to the trash."""
        await self._write("DELETE", note, None)

    def list_trash(self, *, limit: int | None = None) -> Pages[Note]:
        """`GET /api/trash`: trashed notes, most recently deleted first, each with `deleted_at`."""
        query = httpx.QueryParams(given(limit=limit))
        return Pages(page_reader(self.http, Note.from_json), _with_query("/api/trash", query))

    async def restore_note(self, note: NoteRef) -> Note:
        """`POST /api/trash/<id>/restore`: take a note out of the trash."""
        return _note(await self.http.request("POST", f"/api/trash/{_id(note)}/restore"))

    async def purge_note(self, note: NoteRef) -> None:
        """`DELETE /api/trash/<id>`: delete a trashed note forever."""
        await self.http.request("DELETE", f"/api/trash/{_id(note)}")

    # The change feed and the live stream (SPEC §10)

    async def changes(self, since: str | None = None, *, limit: int | None = None) -> ChangesPage:
        """`GET /api/changes`: one page of changes after `since` (None: a full sync)."""
        return await live.changes(self.http, since, limit)

    def change_pages(
        self, since: str | None = None, *, limit: int | None = None
    ) -> AsyncIterator[ChangesPage]:
        """`changes()` page after page while `more`, each from the cursor of the one before."""
        return live.change_pages(self.http, since, limit)

    def events(self, since: str | None = None, *, reconnect: bool = True) -> AsyncIterator[Event]:
        """`GET /api/events`: every change after `since` (None: from now), then live ones; a dropped
        stream reconnects with `Last-Event-ID` after the server's `retry:` pause."""
        return live.events(self.http, since, reconnect=reconnect)

    # What the methods share

    async def _write(self, method: str, note: NoteRef, body: dict[str, Any] | None) -> httpx.Response:
        """A change of a note: conditional when the note was read, and a 412 carries the current one."""
        headers = {"If-Match": await self._precondition(note)} if isinstance(note, Note) else {}
        url = f"/api/notes/{_id(note)}"
        try:
            return await self.http.request(method, url, json=body, headers=headers)
        except PreconditionFailed as failed:
            failed.current = await self._current(_id(note))
            raise

    async def _precondition(self, note: Note) -> str:
        """The ETag to send. A note from a list, the feed or the stream came without one: it is
        read again, and unless it is still at the version the caller has, that is the 412."""
        if note.etag is not None:
            return note.etag
        current = await self.get_note(note.id)
        if current.version != note.version:
            failed = PreconditionFailed(412, "Precondition failed")
            failed.current = current
            raise failed
        if current.etag is None:
            raise ResponseError(f"/api/notes/{note.id}: no ETag")
        return current.etag

    async def _current(self, note_id: int) -> Note | None:
        try:
            return await self.get_note(note_id)
        except (NotFound, Forbidden):
            return None


def _with_query(path: str, query: httpx.QueryParams) -> str:
    return f"{path}?{query}" if query else path


def _id(note: NoteRef) -> int:
    return note if isinstance(note, int) else note.id


def _note(response: httpx.Response) -> Note:
    return Note.from_json(json_of(response), etag=response.headers.get("ETag"))
