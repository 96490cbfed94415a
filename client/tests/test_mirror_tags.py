"""`Mirror` keeps tags (SPEC §11) against the real server: `notes(tag=…)` from its own index, kept
in step by edits and deletions, and a file written by a client of before tags upgraded on open."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from notes_client import Mirror, NotesClient

OLD_SCHEMA = """
CREATE TABLE notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL);
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


async def test_the_copy_has_the_tags_and_follows_their_changes(client: NotesClient, tmp_path: Path) -> None:
    work = await client.create_note(title="w", content="x", tags=["Work"])
    home = await client.create_note(title="h", content="x", tags=["home", "work"])
    async with Mirror(client, tmp_path / "copy.db") as mirror:
        await mirror.sync()
        assert [note.id for note in await mirror.notes(tag="work")] == [home.id, work.id]
        assert (await mirror.get(home.id)).tags == ("home", "work")  # type: ignore[union-attr]
        await client.update_note(home, tags=["home"])
        await client.delete_note(work)
        await mirror.sync()
        assert await mirror.notes(tag="work") == []
        assert [note.id for note in await mirror.notes(tag="Work", trashed=True)] == [work.id]
        assert [note.id for note in await mirror.notes(tag="home")] == [home.id]


async def test_a_file_of_before_tags_is_upgraded_when_opened(client: NotesClient, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    note = await client.create_note(title="t", content="x", tags=["kept"])
    page = await client.changes(None)
    with sqlite3.connect(path) as db:  # what a client of before tags left: JSON rows and a cursor
        db.executescript(OLD_SCHEMA)
        db.execute("INSERT INTO notes (id, note) VALUES (?, ?)", (note.id, json.dumps(dict(note.raw))))
        db.execute("INSERT INTO state (key, value) VALUES ('cursor', ?)", (page.cursor,))
    async with Mirror(client, path) as mirror:
        assert [found.id for found in await mirror.notes(tag="kept")] == [note.id]
        assert await mirror.sync() == 0  # the cursor kept: nothing to read again
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
    async with Mirror(client, path) as mirror:  # opening it again changes nothing
        assert [found.id for found in await mirror.notes(tag="kept")] == [note.id]
