"""`Mirror` against the SPEC §10 fake (fakes.py): a copy equal to the server's notes after a full
sync, incremental syncs, a 410 or a foreign cursor, a crash in the middle of a page (an exception,
and a real SIGKILL of another process), and following the live stream through drops."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import TOKEN, FakeFeed
from support import Sleeps

from notes_client import Mirror, Note, NotesClient, Retry

TESTS = Path(__file__).resolve().parent


def client_of(feed: FakeFeed) -> NotesClient:
    retry = Retry(sleep=Sleeps(), max_wait=0)
    return NotesClient("http://notes.test", TOKEN, transport=feed.client_transport(), retry=retry)


def rows_in(path: Path) -> tuple[int, str | None]:
    """What the file holds, read by another connection: its number of notes and its cursor."""
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT count(*) FROM notes").fetchone()
        cursor = db.execute("SELECT value FROM state WHERE key = 'cursor'").fetchone()
    return count, None if cursor is None else cursor[0]


async def test_full_then_incremental_sync(tmp_path: Path) -> None:
    feed = FakeFeed.sample()
    async with Mirror(client_of(feed), tmp_path / "copy.db", page_size=4) as mirror:
        assert await mirror.cursor() is None
        assert await mirror.sync() >= 21  # every note, and markers of deletions after the first page
        assert await mirror.notes(trashed=None) == feed.expected()
        assert await mirror.cursor() == feed.cursor()
        assert all(note.deleted_at is None for note in await mirror.notes())
        assert {note.id for note in await mirror.notes(trashed=True)} == {2, 7, 12, 17}

        feed.edit(1, title="renamed", is_pinned=True)
        feed.trash(3)
        feed.purge(5)
        feed.create("new", "note")
        assert await mirror.sync() == 4
        assert await mirror.notes(trashed=None) == feed.expected()
        renamed = await mirror.get(1)
        assert await mirror.get(5) is None and renamed is not None and renamed.title == "renamed"
        assert await mirror.sync() == 0  # nothing new


async def test_an_expired_cursor_rebuilds_the_copy(tmp_path: Path) -> None:
    feed = FakeFeed.sample()
    async with Mirror(client_of(feed), tmp_path / "copy.db", page_size=5) as mirror:
        await mirror.sync()
        feed.purge(1)  # the copy never hears of it: its marker is gone before the next sync
        feed.edit(3, content="changed meanwhile")
        feed.forget_markers()
        await mirror.sync()
        assert await mirror.notes(trashed=None) == feed.expected()
        assert await mirror.get(1) is None
        changes = [request.url.params.get("since") for request in feed.requests]
        assert None in changes[1:]  # it synced from the start again


async def test_a_cursor_the_server_refuses_rebuilds_the_copy(tmp_path: Path) -> None:
    """Another account's cursor, or one signed with a key the server no longer has: 400."""
    path = tmp_path / "copy.db"
    with sqlite3.connect(path) as db:
        db.executescript("CREATE TABLE notes (id INTEGER PRIMARY KEY, note TEXT NOT NULL);")
        db.executescript("CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);")
        db.execute("INSERT INTO notes VALUES (999, '{}')")
        db.execute("INSERT INTO state VALUES ('cursor', 'someone-elses')")
    feed = FakeFeed.sample()
    async with Mirror(client_of(feed), path) as mirror:
        await mirror.sync()
        assert await mirror.notes(trashed=None) == feed.expected()


class Crash(Exception):
    pass


class CrashingMirror(Mirror):
    """Fails while storing its `crash_at`-th note: mid-page, mid-transaction."""

    def __init__(self, *args: object, crash_at: int, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.stored, self.crash_at = 0, crash_at

    def _store(self, db: sqlite3.Connection, note: Note) -> None:
        self.stored += 1
        if self.stored == self.crash_at:
            raise Crash
        super()._store(db, note)


async def test_a_crash_mid_page_loses_the_page_and_nothing_else(tmp_path: Path) -> None:
    feed = FakeFeed.sample(60)
    path = tmp_path / "copy.db"
    async with CrashingMirror(client_of(feed), path, page_size=10, crash_at=25) as crashing:
        with pytest.raises(Crash):
            await crashing.sync()
    count, cursor = rows_in(path)
    assert count == 20 and cursor is not None  # two whole pages and their cursor; none of the third
    feed.edit(30, title="changed while it was down")
    async with Mirror(client_of(feed), path, page_size=10) as restarted:
        await restarted.sync()
        assert await restarted.notes(trashed=None) == feed.expected()
    assert [r.url.params.get("since") for r in feed.requests].count(None) == 1  # resumed, not restarted


KILLED = """
import asyncio, os, signal, sys
from fakes import TOKEN, FakeFeed
from notes_client import Mirror, NotesClient

class Dying(Mirror):
    stored = 0

    def _store(self, db, note):
        Dying.stored += 1
        if Dying.stored == int(sys.argv[2]):
            os.kill(os.getpid(), signal.SIGKILL)  # mid-transaction, no cleanup of any kind
        super()._store(db, note)

async def main():
    feed = FakeFeed.sample(60)
    async with NotesClient("http://notes.test", TOKEN, transport=feed.client_transport()) as client:
        async with Dying(client, sys.argv[1], page_size=10) as mirror:
            await mirror.sync()

asyncio.run(main())
"""


async def test_sigkill_mid_page_then_restart(tmp_path: Path) -> None:
    path = tmp_path / "copy.db"
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    killed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, str(script), str(path), "35"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert killed.returncode == -9, killed.stderr.decode()
    count, cursor = rows_in(path)
    assert count == 30 and cursor is not None
    feed = FakeFeed.sample(60)
    async with Mirror(client_of(feed), path, page_size=10) as restarted:
        await restarted.sync()
        assert await restarted.notes(trashed=None) == feed.expected()


async def test_run_follows_the_stream_through_drops_and_an_expired_cursor(tmp_path: Path) -> None:
    feed = FakeFeed.sample()
    feed.drop_after = 2
    synced = asyncio.Event()
    async with Mirror(client_of(feed), tmp_path / "copy.db") as mirror:
        following = asyncio.create_task(mirror.run(synced=synced))

        async def caught_up() -> None:
            async with asyncio.timeout(5):
                while await mirror.cursor() != feed.cursor():  # noqa: ASYNC110 (the file is polled)
                    await asyncio.sleep(0.01)

        await synced.wait()
        for n in range(5):
            feed.create(f"live {n}", "from another device")
        feed.trash(1)
        feed.purge(6)
        await caught_up()
        assert await mirror.notes(trashed=None) == feed.expected()
        assert len(feed.streams) >= 3  # it reconnected after each drop
        assert feed.streams[1:] == sorted(feed.streams[1:], key=feed.position)

        feed.drop_after = None
        feed.purge(8)  # the stream drops before sending it, and its marker is gone when it is back:
        feed.forget_markers()  # the reconnection is a 410, and the copy is rebuilt
        feed.drop_streams()
        feed.create("after the resync", "x")
        await caught_up()
        assert await mirror.get(8) is None
        assert await mirror.notes(trashed=None) == feed.expected()
        following.cancel()
        with pytest.raises(asyncio.CancelledError):
            await following
