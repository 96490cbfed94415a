"""`python -m bench.write_path`: what a note's create costs in the database, and the search index's
share of it (issue 22: "the FTS triggers' share").

In this process, through the service layer as the route calls it (`services.notes.create_note` in a
write block; on PostgreSQL sent alone, as `POST /api/notes` without a key), on two databases migrated
alike: one as shipped, one without its search indexing (SQLite: the three FTS triggers dropped, so
nothing feeds `notes_fts`, `notes_title_fts` and `notes_prefix_fts`; PostgreSQL: `ix_notes_search`
dropped). Rounds alternate between them; in each, `--writers` tasks create notes as as many users
(on SQLite they take turns on the file anyway) for `--seconds`. The share is 1 − (creates/s with the
index ÷ without), the median over rounds. Each database starts with `--notes` notes per user, so the
indexes are not empty.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import asyncpg

from notes_service.data import Database
from notes_service.services import notes

from . import postgres, seed, servers

SQLITE_TRIGGERS = ("notes_fts_insert", "notes_fts_delete", "notes_fts_update")
CONTENT = seed.content(7)


async def creates_per_second(database: Database, user_ids: list[int], seconds: float) -> float:
    """Notes created per second by one task per user, each create a write block of its own."""
    created = 0
    deadline = time.monotonic() + seconds

    async def writer(user_id: int) -> None:
        nonlocal created
        while time.monotonic() < deadline:
            store = database.store()
            async with store.write(alone=True):
                await notes.create_note(store, author_id=user_id, title="Written", content=CONTENT)
            created += 1

    started = time.monotonic()
    await asyncio.gather(*(writer(user_id) for user_id in user_ids))
    return created / (time.monotonic() - started)


def _users(count: int) -> list[tuple[Any, ...]]:
    password_hash = seed.bcrypt_sha256(4).hash(secrets.token_urlsafe(8))
    return [
        (user_id, f"w{user_id}", f"w{user_id}", f"w{user_id}@bench.example", password_hash, True, seed.EPOCH)
        for user_id in range(1, count + 1)
    ]


USER_COLUMNS = ["id", "username", "username_key", "email", "password_hash", "is_active", "created_at"]


async def sqlite_pair(scratch: Path, writers: int, notes_each: int) -> dict[str, str]:
    """Two migrated SQLite files with the same users and notes: as shipped, and without the triggers."""
    urls = {}
    for name in ("indexed", "unindexed"):
        workdir = scratch / name
        url = f"sqlite+aiosqlite:///{workdir / 'notes.db'}"
        servers.migrate(workdir, servers.service_env(url, "x" * 32, 4))
        if name == "unindexed":
            with sqlite3.connect(workdir / "notes.db") as connection:
                for trigger in SQLITE_TRIGGERS:
                    connection.execute(f"DROP TRIGGER {trigger}")
        urls[name] = url
    for url in urls.values():
        database = await Database.open(url)
        try:
            await _fill(database, writers, notes_each, sqlite_file=url.split("///", 1)[1])
        finally:
            await database.close()
    return urls


async def _fill(database: Database, writers: int, notes_each: int, *, sqlite_file: str | None = None) -> None:
    if sqlite_file is not None:
        seed._sqlite_insert(Path(sqlite_file), {"users": (USER_COLUMNS, _users(writers))})
    for user_id in range(1, writers + 1):
        for _ in range(notes_each):
            store = database.store()
            async with store.write():
                await notes.create_note(store, author_id=user_id, title="Seeded", content=CONTENT)


async def postgres_pair(stack: AsyncExitStack, writers: int, notes_each: int) -> dict[str, str]:
    urls = {}
    for name in ("indexed", "unindexed"):
        plain = await stack.enter_async_context(postgres.temporary_database())
        url = postgres.sqlalchemy_url(plain)
        servers.migrate(
            Path(tempfile.mkdtemp(prefix="notes-bench-write-")), servers.service_env(url, "x" * 32, 4)
        )
        connection = await asyncpg.connect(plain)
        try:
            if name == "unindexed":
                await connection.execute("DROP INDEX ix_notes_search")
            await connection.copy_records_to_table("users", records=_users(writers), columns=USER_COLUMNS)
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users"
            )
        finally:
            await connection.close()
        database = await Database.open(url)
        try:
            await _fill(database, writers, notes_each)
        finally:
            await database.close()
        urls[name] = url
    return urls


async def compare(urls: dict[str, str], writers: int, rounds: int, seconds: float) -> dict[str, Any]:
    databases = {name: await Database.open(url) for name, url in urls.items()}
    try:
        rates: dict[str, list[float]] = {name: [] for name in databases}
        for database in databases.values():  # warm up: connections, prepared statements
            await creates_per_second(database, list(range(1, writers + 1)), 0.5)
        for _ in range(rounds):
            for name, database in databases.items():
                rates[name].append(await creates_per_second(database, list(range(1, writers + 1)), seconds))
    finally:
        for database in databases.values():
            await database.close()
    ratios = [
        with_index / without for with_index, without in zip(rates["indexed"], rates["unindexed"], strict=True)
    ]
    return {
        "creates_per_second": {name: [round(rate, 1) for rate in values] for name, values in rates.items()},
        "indexed_over_unindexed": round(statistics.median(ratios), 3),
        "search_index_share": round(1 - statistics.median(ratios), 3),
    }


async def run(options: argparse.Namespace) -> dict[str, Any]:
    outcome: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="notes-bench-write-") as scratch:
        urls = await sqlite_pair(Path(scratch), options.writers, options.notes)
        outcome["sqlite"] = await compare(urls, options.writers, options.rounds, options.seconds)
        if not options.no_postgres:
            async with AsyncExitStack() as stack:
                try:
                    urls = await postgres_pair(stack, options.writers, options.notes)
                except postgres.Unreachable as error:
                    outcome["postgresql"] = {"skipped": str(error)}
                else:
                    outcome["postgresql"] = await compare(
                        urls, options.writers, options.rounds, options.seconds
                    )
    return outcome


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.write_path", description=__doc__.split("\n")[0])
    parser.add_argument("--writers", type=int, default=8, help="users writing at once")
    parser.add_argument("--notes", type=int, default=200, help="notes each user has before the rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--no-postgres", action="store_true")
    options = parser.parse_args()
    outcome = asyncio.run(run(options))
    for database, figures in outcome.items():
        print(f"{database}: {figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
