"""`Mirror`: a local SQLite copy of one account's notes, kept in step by the feed and the stream.

Each page of the feed and each event of the stream is applied in one SQLite transaction together
with the cursor just after it, so the file always holds a copy that was true at its cursor: stopped
at any moment (even by SIGKILL, mid-page) it restarts from the last cursor it committed, and the
server sends what came after — nothing missed, nothing applied twice. When that cursor is refused
(410: older than a purged deletion marker; 400: another account's, or the server's key changed)
the copy is rebuilt by a full sync, whose first page replaces the old rows in the same transaction,
so it is never seen empty.

Each note is kept as the server sent it (JSON, unknown fields too), and its tags once more in
`note_tags` (SPEC §11), indexed, for `notes(tag=…)`. The file's `user_version` says which schema it
has: a file of before tags (0) gets the table, filled from the notes it holds, when it is opened.

sqlite3 is the standard library's, run in a worker thread (`asyncio.to_thread`) so the event loop
never waits on the disk; one lock keeps the connection to one thread at a time.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

from .client import NotesClient
from .errors import CursorExpired, InvalidCursor
from .models import Change, FeedItem, Note

T = TypeVar("T")
MAX_REBUILDS = 3
SCHEMA_VERSION = 1  # PRAGMA user_version: 0 is a file of before tags
SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
TAGS_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS note_tags "
    "(tag TEXT NOT NULL, note_id INTEGER NOT NULL, PRIMARY KEY (tag, note_id))",
    "CREATE INDEX IF NOT EXISTS note_tags_note ON note_tags (note_id)",
)
# The notes a file of before tags holds already: their tags as the server sent them (none, unless
# the server had tags before the client kept them apart).
FILL_TAGS = (
    "INSERT OR IGNORE INTO note_tags (tag, note_id) "
    "SELECT tags.value, notes.id FROM notes, json_each(notes.note, '$.tags') AS tags "
    "WHERE json_type(notes.note, '$.tags') = 'array' AND tags.type = 'text'"
)


class Mirror:
    """A copy of the notes of `client`'s account in the SQLite file at `path`.

    `sync()` catches up once; `run()` catches up, then follows the live stream until cancelled;
    `notes()` reads the copy. Use it as an async context manager, or call `close()`.
    """

    def __init__(self, client: NotesClient, path: str | os.PathLike[str], *, page_size: int = 500) -> None:
        self.client = client
        self.path = path
        self.page_size = page_size
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    async def __aenter__(self) -> Mirror:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        def close() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        await self._run(close)

    async def sync(self) -> int:
        """Apply the feed from the stored cursor until it has no more; the number of changes applied."""
        cursor = await self.cursor()
        applied, rebuild, rebuilds = 0, cursor is None, 0
        while True:
            try:
                page = await self.client.changes(cursor, limit=self.page_size)
            except (CursorExpired, InvalidCursor):
                # Sync from the start (SPEC §10): again if markers were purged during that sync,
                # but not forever if the server refuses the cursors it has just handed out.
                if cursor is None or rebuilds == MAX_REBUILDS:
                    raise
                cursor, rebuild, rebuilds = None, True, rebuilds + 1
                continue
            await self._apply(page.changes, page.cursor, rebuild=rebuild)
            applied += len(page.changes)
            cursor, rebuild = page.cursor, False
            if not page.more:
                return applied

    async def run(self, *, synced: asyncio.Event | None = None) -> None:
        """Catch up, then apply each event of the live stream as it comes, until cancelled.
        `synced` is set once the first catch-up is in the file."""
        while True:
            await self.sync()
            if synced is not None:
                synced.set()
            try:
                async for event in self.client.events(await self.cursor()):
                    await self._apply([event.change], event.cursor)
            except (CursorExpired, InvalidCursor):
                continue  # the next sync() rebuilds the copy

    async def notes(self, *, trashed: bool | None = False, tag: str | None = None) -> list[Note]:
        """The copy's notes, ordered as the server lists them (pinned first, then newest).
        `trashed`: False (default) the notes outside the trash, True those in it, None both;
        `tag`: only the notes with that tag (case-insensitive, as on the server)."""
        query, params = "SELECT note FROM notes", list[str]()
        if tag is not None:
            query += " JOIN note_tags ON note_tags.note_id = notes.id WHERE tag = ?"
            params.append(tag.lower())
        rows = await self._run(lambda: self._db.execute(query, params).fetchall())
        notes = [Note.from_json(json.loads(note)) for (note,) in rows]
        if trashed is not None:
            notes = [note for note in notes if (note.deleted_at is not None) == trashed]
        return sorted(notes, key=lambda note: (not note.is_pinned, -note.created_at.timestamp(), -note.id))

    async def get(self, note_id: int) -> Note | None:
        """One note of the copy (trashed too), or None."""
        query = "SELECT note FROM notes WHERE id = ?"
        row = await self._run(lambda: self._db.execute(query, (note_id,)).fetchone())
        return None if row is None else Note.from_json(json.loads(row[0]))

    async def cursor(self) -> str | None:
        """Where the copy is: the feed cursor of its last applied change (None: never synced)."""
        query = "SELECT value FROM state WHERE key = 'cursor'"
        row = await self._run(lambda: self._db.execute(query).fetchone())
        return None if row is None else str(row[0])

    async def _apply(self, changes: Sequence[FeedItem], cursor: str, *, rebuild: bool = False) -> None:
        """Changes and the cursor after them in one transaction (all of them, or none)."""
        await self._run(lambda: self._apply_now(changes, cursor, rebuild))

    def _apply_now(self, changes: Sequence[FeedItem], cursor: str, rebuild: bool) -> None:
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            if rebuild:
                db.execute("DELETE FROM notes")
                db.execute("DELETE FROM note_tags")
            for change in changes:
                if isinstance(change, Change):
                    self._store(db, change.note)
                else:
                    db.execute("DELETE FROM notes WHERE id = ?", (change.id,))
                    db.execute("DELETE FROM note_tags WHERE note_id = ?", (change.id,))
            db.execute(
                "INSERT INTO state (key, value) VALUES ('cursor', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (cursor,),
            )
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    def _store(self, db: sqlite3.Connection, note: Note) -> None:
        """One note as the server sent it (unknown fields too), replacing the copy's."""
        db.execute(
            "INSERT INTO notes (id, note) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET note = excluded.note",
            (note.id, json.dumps(dict(note.raw))),
        )
        db.execute("DELETE FROM note_tags WHERE note_id = ?", (note.id,))
        db.executemany(
            "INSERT OR IGNORE INTO note_tags (tag, note_id) VALUES (?, ?)",
            [(tag, note.id) for tag in note.tags],
        )

    @staticmethod
    def _upgrade(db: sqlite3.Connection) -> None:
        """Bring a file made by an older client to `SCHEMA_VERSION`, in one transaction."""
        db.execute("BEGIN IMMEDIATE")
        try:
            if db.execute("PRAGMA user_version").fetchone()[0] < 1:
                for statement in TAGS_SCHEMA:
                    db.execute(statement)
                db.execute(FILL_TAGS)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    @property
    def _db(self) -> sqlite3.Connection:
        """The connection, opened (and the tables made) on first use, in the worker thread."""
        if self._connection is None:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")  # a reader (`notes-client ls`) never blocks a sync
            db.executescript(SCHEMA)
            self._upgrade(db)
            self._connection = db
        return self._connection

    async def _run(self, work: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                return work()

        return await asyncio.to_thread(locked)
