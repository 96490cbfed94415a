"""One stream's body: the user's changes as Server-Sent Events, from a point of their feed on.

    id: <the feed cursor just after this change>
    event: note                 (or: event: deleted)
    data: {"id": 7, "title": …}  (or: data: {"id": 7})

It opens with `id: <cursor>` alone (no event is dispatched, but a browser's EventSource and
`notes_client` keep it as the last event id), so a client that reconnects resumes where it was
even when nothing changed meanwhile. Then, until it ends: woken, it reads the feed after its own
cursor in pages of `PAGE` and sends each change; every `heartbeat` seconds (`Beats`, one timer for
the worker's streams) it sends a comment line.
It never holds more than one page: when the client does not read, the send waits (hypercorn's
buffer is full) and the stream reads nothing more until it can go on, or is cut off
(`Hub.end_stuck`). Ending, it says `retry:` when the worker stops, then returns.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from ..data import Database
from ..http.logs import event
from ..services import changes
from ..services.changes import ChangesPage, Since
from ..services.errors import CursorExpired
from ..services.rows import ChangedNoteRow, DeletedNoteRow
from .hub import Beats, Ending, Stream

log = logging.getLogger("notes_service.live")
PAGE = 50
READ_RETRY_SECONDS = 1.0
READ_FAILURE_LOG_SECONDS = 60.0
HEARTBEAT = b": heartbeat\n\n"
# The reconnection time a stopping worker hands its clients, in milliseconds: spread, so that they
# do not all come back in the same instant.
RETRY_MS = (1000, 5000)
Cursor = Callable[[Since], str]
NoteJSON = Callable[[ChangedNoteRow], dict[str, Any]]


def position(since: Since, seq: int) -> Since:
    """The place in the feed just after the change numbered `seq`, read from `since`."""
    return Since(seq, since.markers_after if since.markers_after > seq else 0)


def change_event(change: ChangedNoteRow | DeletedNoteRow, cursor: str, note_json: NoteJSON) -> bytes:
    if isinstance(change, DeletedNoteRow):
        kind, data = b"deleted", orjson.dumps({"id": change.id})
    else:
        kind, data = b"note", orjson.dumps(note_json(change))
    return b"id: %s\nevent: %s\ndata: %s\n\n" % (cursor.encode(), kind, data)


def retry_hint() -> bytes:
    return b"retry: %d\n\n" % random.randint(*RETRY_MS)


async def events(
    database: Database,
    stream: Stream,
    since: Since,
    first: ChangesPage,
    *,
    cursor: Cursor,
    note_json: NoteJSON,
    heartbeat: float,
    beats: Beats,
) -> AsyncIterator[bytes]:
    """The stream's body, `first` (read after `since` before the answer began) first."""
    page: ChangesPage | None = first
    del first  # sent once: not held for the stream's life
    yield b"id: %s\n\n" % cursor(since).encode()
    loop = asyncio.get_running_loop()
    beats.at(stream, loop.time() + heartbeat)
    while stream.ending is None:
        if page is None and stream.woken:
            stream.woken = False
            try:
                page = await changes.read_changes(
                    database.store(), author_id=stream.user_id, after=since, limit=PAGE
                )
            except CursorExpired:
                return  # markers it has not seen were purged: reconnecting gets the 410
            except Exception as error:  # the database is away: look again a little later
                _read_failed(error)
                asyncio.get_running_loop().call_later(READ_RETRY_SECONDS, stream.wake)
        if page is not None:
            last = len(page.changes) - 1
            for index, change in enumerate(page.changes):
                here = page.next if index == last else position(since, change.change_seq)
                stream.sending_since = time.monotonic()
                yield change_event(change, cursor(here), note_json)
                stream.sending_since = None
            since, more, page = page.next, page.more, None
            stream.seq = since.seq
            if more:
                stream.wake()  # the rest after this page, once the client took it
            continue
        if stream.beat_due:
            stream.beat_due = False
            stream.sending_since = time.monotonic()
            yield HEARTBEAT
            stream.sending_since = None
            beats.at(stream, loop.time() + heartbeat)
            continue
        await stream.wait()  # a wake, the heartbeat (one timer for all streams: Beats) or the end
    if stream.ending == Ending.STOPPING:
        yield retry_hint()


_last_failure_logged = 0.0


def _read_failed(error: Exception) -> None:
    """Say that streams cannot read their feeds, at most once per READ_FAILURE_LOG_SECONDS: with the
    database away, every stream of every worker fails each second."""
    global _last_failure_logged
    now = time.monotonic()
    if now - _last_failure_logged >= READ_FAILURE_LOG_SECONDS:
        _last_failure_logged = now
        event(log, "live_read_failed", error=type(error).__name__)
