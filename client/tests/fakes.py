"""A fake of SPEC §10's change feed and live stream, as an httpx.MockTransport handler.

The server does not have `/api/changes` and `/api/events` yet; this fake keeps their contract so the
client's feed, stream and Mirror can be tested now: every write puts the note at the end of the
feed (`seq`), a page holds each note once in its latest state, oldest change first; a full sync has
no deletion markers; a cursor is `c<seq>.<generation>` (anything else: 400 "Invalid cursor"), and is
410 once a marker after its seq has been purged since it was handed out (a later generation). The
stream sends `id: <cursor>` with `event: note` or `event: deleted`, a `retry:` hint and comment
heartbeats, resumes after `Last-Event-ID`, and can be told to drop its connection. The tests of the
real server (test_live_server.py) hold the same expectations, so the fake and the server are checked
against each other once both exist.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from notes_client import Note

TOKEN = "nts_fake"
BASE = datetime(2025, 1, 1, tzinfo=UTC)


class FakeFeed:
    def __init__(self) -> None:
        self.notes: dict[int, dict[str, Any]] = {}
        self.changed_at: dict[int, int] = {}  # id → seq of its latest change (markers too)
        self.markers: set[int] = set()  # ids deleted forever, while their markers are kept
        self.horizons = [0]  # by generation: the newest marker seq purged when it began
        self.seq = 0
        self.next_id = 1
        self.retry_ms: int | None = 10
        self.drop_after: int | None = None  # events a stream sends before its connection drops
        self.requests: list[httpx.Request] = []
        self.streams: list[str | None] = []  # each stream's Last-Event-ID
        self.connected = asyncio.Event()  # set once a stream has started
        self._cut: type[Exception] | None = None
        self.busy = 0  # connections to refuse with 429 (too many streams) before serving again
        self._wakeup: asyncio.Event | None = None

    @classmethod
    def sample(cls, count: int = 25) -> FakeFeed:
        """The same history every time: notes written, edited, trashed and deleted forever."""
        feed = cls()
        for n in range(count):
            feed.create(f"note {n}", f"text {n}", pinned=n % 7 == 0)
        for n in range(1, count, 3):
            feed.edit(n, content=f"edited {n}")
        for n in range(2, count, 5):
            feed.trash(n)
        for n in range(4, count, 6):
            feed.purge(n)
        return feed

    # Writes, each at the end of the feed

    def _touch(self, note_id: int) -> None:
        self.seq += 1
        self.changed_at[note_id] = self.seq
        if self._wakeup is not None:
            self._wakeup.set()

    def create(self, title: str, content: str, *, pinned: bool = False) -> dict[str, Any]:
        note_id, self.next_id = self.next_id, self.next_id + 1
        at = (BASE + timedelta(minutes=note_id)).isoformat()
        self.notes[note_id] = {
            "id": note_id,
            "title": title,
            "content": content,
            "is_pinned": pinned,
            "created_at": at,
            "updated_at": at,
            "version": 1,
            "tags": [],
            "deleted_at": None,
        }
        self._touch(note_id)
        return self.notes[note_id]

    def edit(self, note_id: int, **fields: Any) -> None:
        note = self.notes[note_id]
        note.update(fields, version=note["version"] + 1)
        self._touch(note_id)

    def trash(self, note_id: int) -> None:
        self.edit(note_id, deleted_at=(BASE + timedelta(days=1, minutes=note_id)).isoformat())

    def purge(self, note_id: int) -> None:
        del self.notes[note_id]
        self.markers.add(note_id)
        self._touch(note_id)

    def forget_markers(self) -> None:
        """The markers' days are over: a cursor handed out before, from before one of them, is 410."""
        self.horizons.append(max((self.changed_at[i] for i in self.markers), default=0))
        for note_id in self.markers:
            del self.changed_at[note_id]
        self.markers.clear()

    def drop_streams(self) -> None:
        """The open stream's connection breaks (a proxy restarts, the network goes)."""
        self._end(httpx.ReadError)

    def end_streams(self) -> None:
        """The server ends the open stream cleanly (SIGTERM: it says `retry:` first)."""
        self._end(StopAsyncIteration)

    def _end(self, how: type[Exception]) -> None:
        self._cut = how
        if self._wakeup is not None:
            self._wakeup.set()

    def expected(self) -> list[Note]:
        """The notes a faithful copy holds, trashed ones too, in the copy's order."""
        notes = [Note.from_json(note) for note in self.notes.values()]
        return sorted(notes, key=lambda note: (not note.is_pinned, -note.created_at.timestamp(), -note.id))

    # The routes

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"error": "Invalid token"})
        if request.url.path == "/api/changes":
            return self._changes(request)
        if request.url.path == "/api/events":
            since = request.headers.get("Last-Event-ID", request.url.params.get("since"))
            self.streams.append(since)
            if self.busy:
                self.busy -= 1
                return httpx.Response(429, json={"error": "Too many streams"}, headers={"Retry-After": "5"})
            start = self.seq if since is None else self._cursor(since)
            if isinstance(start, httpx.Response):
                return start
            headers = {"Content-Type": "text/event-stream"}
            self.connected.set()
            return httpx.Response(200, headers=headers, content=self._stream(start))
        return httpx.Response(404, json={"error": "Not found"})

    def cursor(self, seq: int | None = None) -> str:
        """The cursor handed out now for `seq` (default: the newest change)."""
        return f"c{self.seq if seq is None else seq}.{len(self.horizons) - 1}"

    @staticmethod
    def position(cursor: str | None) -> int:
        return int((cursor or "c0")[1:].partition(".")[0])

    def _cursor(self, cursor: str) -> int | httpx.Response:
        found = re.fullmatch(r"c(\d+)\.(\d+)", cursor)
        if found is None or int(found[1]) > self.seq or int(found[2]) >= len(self.horizons):
            return httpx.Response(400, json={"error": "Invalid cursor"})
        seq, generation = int(found[1]), int(found[2])
        if any(horizon > seq for horizon in self.horizons[generation + 1 :]):
            return httpx.Response(410, json={"error": "Cursor expired: sync from the start"})
        return seq

    def _after(self, seq: int, *, markers: bool = True) -> list[tuple[int, int]]:
        """(seq, id) of each note changed after `seq`, oldest change first."""
        changed = [(at, i) for i, at in self.changed_at.items() if at > seq and (markers or i in self.notes)]
        return sorted(changed)

    def _item(self, note_id: int) -> dict[str, Any]:
        note = self.notes.get(note_id)
        return {"note": dict(note)} if note is not None else {"id": note_id, "deleted": True}

    def _changes(self, request: httpx.Request) -> httpx.Response:
        since = request.url.params.get("since")
        limit = int(request.url.params.get("limit", 100))
        start = 0 if since is None else self._cursor(since)
        if isinstance(start, httpx.Response):
            return start
        changed = self._after(start, markers=since is not None)
        page, more = changed[:limit], len(changed) > limit
        # the last page ends at "now": a full sync skips the markers, which are older than that
        cursor = page[-1][0] if more else self.seq
        body = {"changes": [self._item(i) for _, i in page], "cursor": self.cursor(cursor), "more": more}
        return httpx.Response(200, json=body)

    async def _stream(self, seq: int) -> AsyncIterator[bytes]:
        if self.retry_ms is not None:
            yield f"retry: {self.retry_ms}\n\n".encode()
        yield b": connected\n\n"
        sent = 0
        while True:
            self._wakeup = asyncio.Event()
            if self._cut is not None:
                how, self._cut = self._cut, None
                if how is StopAsyncIteration:
                    yield b"retry: 250\n\n"
                    return
                raise how("the connection dropped")
            for at, note_id in self._after(seq):
                if self.drop_after is not None and sent >= self.drop_after:
                    raise httpx.ReadError("the connection dropped")
                item = self._item(note_id)
                kind, data = ("note", item["note"]) if "note" in item else ("deleted", {"id": note_id})
                yield f"id: {self.cursor(at)}\nevent: {kind}\ndata: {json.dumps(data)}\n\n".encode()
                seq, sent = at, sent + 1
            try:
                await asyncio.wait_for(self._wakeup.wait(), 0.05)
            except TimeoutError:
                yield b": heartbeat\n\n"

    def client_transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)
