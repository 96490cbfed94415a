"""Two processes writing to one SQLite file at once never see `database is locked`.

Each write block starts with BEGIN IMMEDIATE (see data/store.py); without it, a transaction that reads
and then writes fails at once with SQLITE_BUSY when the other process holds the write lock.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import func, select

from notes_service.data.engine import create_engine
from notes_service.data.models import Note

WRITER = textwrap.dedent(
    """
    import asyncio, sys
    from notes_service.data import Database
    from notes_service.services import notes, users

    async def main(url, author_id, count):
        database = await Database.open(url)

        async def one(number):
            store = database.store()  # one per request, as in the service
            async with store.write():
                await users.get_user(store, user_id=author_id)  # read first...
                note = await notes.create_note(  # ...then write, in the same transaction
                    store, author_id=author_id, title=f"n{number}", content="c"
                )
            async with store.write():
                await notes.update_note(store, note_id=note.id, author_id=author_id, is_pinned=True)

        await asyncio.gather(*(one(number) for number in range(count)))
        await database.close()

    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
    """
)
PER_PROCESS = 150


async def count_notes(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        total = await connection.scalar(select(func.count(Note.id)))
        pinned = await connection.scalar(select(func.count(Note.id)).where(Note.is_pinned.is_(True)))
    await engine.dispose()
    return total, pinned


async def test_two_processes_write_concurrently_without_errors(database_url, factory, app) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite locking behaviour")
    user = await factory.user("writer")
    command = [sys.executable, "-c", WRITER, database_url, str(user.id), str(PER_PROCESS)]
    processes = [subprocess.Popen(command, stderr=subprocess.PIPE, text=True) for _ in range(2)]  # noqa: ASYNC220 - both must start together
    for process in processes:
        _, errors = await asyncio.to_thread(process.communicate, timeout=120)
        assert process.returncode == 0, errors[-2000:]
        assert "database is locked" not in errors
    assert await count_notes(database_url) == (2 * PER_PROCESS, 2 * PER_PROCESS)
