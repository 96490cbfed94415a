"""A reader following the change feed while writers race (SPEC §10: no change is ever skipped or
sent twice, even when concurrent writes commit in another order than they began).

Several writers change one user's notes at once, every kind of write, each write block sleeping a
random 0–50 ms before it commits (a hook around `Store.write`), so that on PostgreSQL a block that
began later would commit first if it could; a reader polls `GET /api/changes` with its cursor all
along, applying what it gets to its own copy. At the end its copy must be exactly the notes the
database holds, and no note may have come to it twice in one version or in an older one after a
newer. On SQLite the write blocks queue (one writer at a time), which the test shows does the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select

from notes_service.data import Store
from notes_service.data.models import Note
from notes_service.http.current import session_lifetime
from notes_service.services import notes, trash
from notes_service.services.errors import Missing, Stale
from notes_service.serving.housekeeping import delete_expired
from tests.helpers import api_token, bearer

WRITERS = 5
WRITES = 14  # per writer
PAGE = 7  # small pages, so `more` and paging are part of the run


def slow_commits(monkeypatch: Any, rng: random.Random) -> None:
    """Every write block sleeps 0–50 ms at its end, before it commits."""
    write = Store.write

    @contextlib.asynccontextmanager
    async def slow_write(self: Store) -> AsyncIterator[None]:
        async with write(self):
            yield
            await asyncio.sleep(rng.uniform(0, 0.05))

    monkeypatch.setattr(Store, "write", slow_write)


async def one_write(store: Store, author_id: int, rng: random.Random, lifetime: Any) -> str:
    """A random write of the author's notes, in a block of its own; what it was."""
    kind = rng.choices(
        ["create", "edit", "pin", "trash", "restore", "purge", "empty", "auto-purge"],
        weights=[4, 4, 2, 3, 2, 2, 0.5, 0.5],
    )[0]
    if kind == "auto-purge":  # housekeeping, every trashed note of every user
        await delete_expired(store.database, lifetime, trash_days=0)
        return kind
    async with store.write():
        rows = await store.rows(select(Note.id, Note.deleted_at).where(Note.author_id == author_id))
        live = [row.id for row in rows if row.deleted_at is None]
        trashed = [row.id for row in rows if row.deleted_at is not None]
        if kind == "create" or (not live and kind in {"edit", "pin", "trash"}):
            await notes.create_note(store, author_id=author_id, title=f"n{rng.random():.6f}", content="c")
            return "create"
        if kind == "edit":
            await notes.update_note(
                store, note_id=rng.choice(live), author_id=author_id, content=f"{rng.random()}"
            )
        elif kind == "pin":
            await notes.update_note(
                store, note_id=rng.choice(live), author_id=author_id, is_pinned=rng.random() < 0.5
            )
        elif kind == "trash":
            await notes.trash_note(store, note_id=rng.choice(live), author_id=author_id)
        elif kind == "empty":
            await trash.empty_trash(store, author_id=author_id)
        elif trashed and kind == "restore":
            await trash.restore_note(store, note_id=rng.choice(trashed), author_id=author_id)
        elif trashed and kind == "purge":
            await trash.purge_note(store, note_id=rng.choice(trashed), author_id=author_id)
    return kind


class Reader:
    """A client's copy of the notes, kept by the feed."""

    def __init__(self, client: Any, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers
        self.cursor: str | None = None
        self.copy: dict[int, dict[str, Any]] = {}
        self.versions: dict[int, int] = {}  # the newest version seen of each note
        self.gone: set[int] = set()
        self.problems: list[str] = []
        self.pages = 0

    async def read(self) -> bool:
        """One page; whether more follow."""
        query = f"?limit={PAGE}" + (f"&since={self.cursor}" if self.cursor else "")
        response = await self.client.get(f"/api/changes{query}", headers=self.headers)
        assert response.status_code == 200, await response.get_data(as_text=True)
        body = await response.get_json()
        for change in body["changes"]:
            self.apply(change)
        self.cursor = body["cursor"]
        self.pages += 1
        return bool(body["more"])

    def apply(self, change: dict[str, Any]) -> None:
        if change.get("deleted"):
            self.copy.pop(change["id"], None)
            self.gone.add(change["id"])
            return
        note = change["note"]
        if note["id"] in self.gone:
            self.problems.append(f"note {note['id']} came back after its deletion marker")
        if note["version"] <= self.versions.get(note["id"], 0):
            self.problems.append(f"note {note['id']} v{note['version']} after v{self.versions[note['id']]}")
        self.versions[note["id"]] = note["version"]
        self.copy[note["id"]] = note

    async def follow(self, done: asyncio.Event) -> None:
        while not done.is_set():
            while await self.read():
                pass
            await asyncio.sleep(0.002)
        while await self.read():  # the final read, after the last commit
            pass


async def test_a_reader_following_racing_writers_ends_with_exactly_their_notes(
    app, client, factory, monkeypatch
) -> None:
    alice, bob = await factory.user("alice"), await factory.user("bob")
    headers = bearer(await api_token(client, alice.email))
    rng = random.Random(20261207)
    slow_commits(monkeypatch, rng)
    database = app.extensions["database"]
    lifetime = session_lifetime(app.config["NOTES"])
    done = asyncio.Event()
    reader = Reader(client, headers)
    following = asyncio.create_task(reader.follow(done))
    await asyncio.sleep(0.01)  # the reader's full sync of nothing, then it follows

    async def writer(author_id: int) -> list[str]:
        kinds = []
        for _ in range(WRITES):
            try:
                kinds.append(await one_write(database.store(), author_id, rng, lifetime))
            except (Missing, Stale):  # another writer got to the note first: nothing was written
                kinds.append("refused")
        return kinds

    written = await asyncio.gather(*(writer(alice.id) for _ in range(WRITERS)), writer(bob.id))
    done.set()
    await following

    export = await client.get("/api/export", headers=headers)
    database_notes = {note["id"]: note for note in (await export.get_json())["notes"]}
    assert reader.problems == []
    assert reader.copy == database_notes
    kinds = {kind for kinds in written for kind in kinds}
    assert {"create", "edit", "trash"} <= kinds, kinds  # the run did race writes of every main kind
    assert reader.pages > 20 and database_notes, (reader.pages, len(database_notes))
