"""bench.write_path: its writers create real notes as their users, and the pair of databases
differs only in the search indexing (SQLite: the triggers that feed the FTS tables)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench import write_path
from notes_service.data.models import Note

pytestmark = pytest.mark.sqlite_pass_only


async def test_the_writers_create_notes_as_their_users(app, factory, store) -> None:
    users = [await factory.user("ann"), await factory.user("bob")]
    rate = await write_path.creates_per_second(app.extensions["database"], [user.id for user in users], 0.2)
    assert rate > 0
    counts = await store.rows(select(Note.author_id, func.count()).group_by(Note.author_id))
    assert {row[0] for row in counts} == {user.id for user in users}


async def test_the_unindexed_sqlite_copy_lacks_only_the_search_triggers(tmp_path: Path) -> None:
    urls = await write_path.sqlite_pair(tmp_path, writers=2, notes_each=3)
    found = {}
    for name, url in urls.items():
        with sqlite3.connect(url.split("///", 1)[1]) as connection:
            triggers = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            }
            indexed = connection.execute(
                "SELECT count(*) FROM notes_fts WHERE notes_fts MATCH 'a1'"
            ).fetchone()
            found[name] = (
                triggers,
                connection.execute("SELECT count(*) FROM notes").fetchone()[0],
                indexed[0],
            )
    assert found["indexed"][0] - found["unindexed"][0] == set(write_path.SQLITE_TRIGGERS)
    assert found["indexed"][1] == found["unindexed"][1] == 6
    assert (found["indexed"][2], found["unindexed"][2]) == (3, 0)  # 'a1': user 1's notes, by author
