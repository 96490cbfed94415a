"""The migrations build exactly the models' schema, and go back down cleanly."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from alembic import command
from notes_service.cli import alembic_config
from notes_service.data.engine import create_engine
from notes_service.data.models import declared_in_models
from notes_service.data.types import Base


async def _inspect(url: str, function):  # type: ignore[no-untyped-def]
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(function)
    finally:
        await engine.dispose()


def _diff(connection):  # type: ignore[no-untyped-def]
    context = MigrationContext.configure(
        connection,
        opts={"compare_type": True, "render_as_batch": True, "include_name": declared_in_models},
    )
    return compare_metadata(context, Base.metadata)


def _tables(connection) -> set[str]:  # type: ignore[no-untyped-def]
    return set(inspect(connection).get_table_names())


def test_head_schema_equals_models_and_downgrade_to_base_works(database_url: str) -> None:
    # `database_url` is already migrated to head (see conftest).
    assert asyncio.run(_inspect(database_url, _diff)) == []
    assert {"users", "notes", "auth_sessions", "api_tokens"} <= asyncio.run(_inspect(database_url, _tables))

    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    command.downgrade(config, "base")
    assert asyncio.run(_inspect(database_url, _tables)) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert asyncio.run(_inspect(database_url, _diff)) == []


def test_upgrade_takes_trashed_notes_out_of_the_sqlite_search_index(database_url: str) -> None:
    """Search pages are read straight from the index (services/search.py): a note already in the trash
    at upgrade time must leave it, and a restore must bring it back."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the full-text index that holds the trash is SQLite's")
    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    command.downgrade(config, "fc9fcd85f2d1")
    path = database_url.removeprefix("sqlite+aiosqlite:///")
    with closing(sqlite3.connect(path)) as db, db:  # foreign keys off: notes need no author row here
        for number, trashed in ((1, None), (2, "2026-01-02")):
            db.execute(
                "INSERT INTO notes (id, author_id, title, content, is_pinned, created_at, updated_at, "
                "deleted_at) VALUES (?, 1, 'otter', '', 0, '2026-01-01', '2026-01-01', ?)",
                (number, trashed),
            )
    command.upgrade(config, "head")
    matches = "SELECT rowid FROM {0} WHERE {0} MATCH 'otter' ORDER BY rowid"
    with closing(sqlite3.connect(path)) as db, db:
        for index in ("notes_fts", "notes_title_fts"):
            assert [row[0] for row in db.execute(matches.format(index))] == [1]
        db.execute("UPDATE notes SET deleted_at = NULL WHERE id = 2")
        for index in ("notes_fts", "notes_title_fts"):
            assert [row[0] for row in db.execute(matches.format(index))] == [1, 2]
        db.execute("UPDATE notes SET deleted_at = '2026-01-03', title = 'seal' WHERE id = 1")
        for index in ("notes_fts", "notes_title_fts"):
            assert [row[0] for row in db.execute(matches.format(index))] == [2]


def test_upgrade_keeps_every_row_and_no_id_is_given_twice(database_url: str) -> None:
    """SQLite gave the highest id out again once its row was deleted (issue 20 item 17): the upgrade
    rebuilds each table with AUTOINCREMENT, keeping its rows, their ids and the search index, and
    without cascading the copy of `users` to their notes."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's sequences never give an id twice")
    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    command.downgrade(config, "5d2c8e41a7b3")
    path = database_url.removeprefix("sqlite+aiosqlite:///")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT INTO users (id, username, username_key, email, password_hash, is_active, created_at) "
            "VALUES (1, 'alice', 'alice', 'alice@example.com', 'x', 1, '2026-01-01')"
        )
        for number in (1, 2):
            db.execute(
                "INSERT INTO notes (id, author_id, title, content, is_pinned, created_at, updated_at, "
                "version) VALUES (?, 1, 'otter', 'sea', 0, '2026-01-01', '2026-01-01', 1)",
                (number,),
            )
    command.upgrade(config, "head")
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("PRAGMA foreign_keys = ON")
        assert [row[0] for row in db.execute("SELECT id FROM notes ORDER BY id")] == [1, 2]
        assert [
            row[0] for row in db.execute("SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'otter'")
        ] == [
            1,
            2,
        ]
        db.execute("DELETE FROM notes WHERE id = 2")
        db.execute(
            "INSERT INTO notes (author_id, title, content, is_pinned, created_at, updated_at, version) "
            "VALUES (1, 'seal', 'sea', 0, '2026-01-01', '2026-01-01', 1)"
        )
        assert [row[0] for row in db.execute("SELECT id FROM notes ORDER BY id")] == [1, 3]
        assert [row[0] for row in db.execute("SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'seal'")] == [
            3
        ]


async def _run(url: str, statements: list[str]) -> list[tuple[object, ...]]:
    """Run statements in one transaction; the rows of the last one."""
    from sqlalchemy import text

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for statement in statements:
                result = await connection.execute(text(statement))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


def test_upgrade_numbers_each_users_notes_for_the_change_feed(database_url: str) -> None:
    """SPEC §10: notes written before the feed get their author's numbers 1..n in the order they
    were last written, and each author's count starts at its n."""
    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    command.downgrade(config, "a9d4c3e1f5b2")
    users = (
        "INSERT INTO users (id, username, username_key, email, password_hash, is_active, created_at) "
        "VALUES ({0}, 'u{0}', 'u{0}', 'u{0}@example.com', 'x', true, '2026-01-01')"
    )
    note = (
        "INSERT INTO notes (id, author_id, title, content, is_pinned, created_at, updated_at, version) "
        "VALUES ({}, {}, 't', 'c', false, '2026-01-01', '{}', 1)"
    )
    rows = [(1, 1, "2026-03-01"), (2, 1, "2026-02-01"), (3, 2, "2026-01-05"), (4, 1, "2026-02-01")]
    asyncio.run(
        _run(
            database_url,
            [users.format(1), users.format(2), users.format(3)] + [note.format(*r) for r in rows],
        )
    )
    command.upgrade(config, "head")
    numbered = asyncio.run(_run(database_url, ["SELECT id, change_seq FROM notes ORDER BY id"]))
    assert numbered == [(1, 3), (2, 1), (3, 1), (4, 2)]  # by (updated_at, id) within each author
    counts = asyncio.run(
        _run(database_url, ["SELECT id, change_seq, tombstones_purged_seq FROM users ORDER BY id"])
    )
    assert counts == [(1, 3, 0), (2, 1, 0), (3, 0, 0)]


def test_upgrade_indexes_existing_notes_with_stems_and_as_written(database_url: str) -> None:
    """SPEC §11 Find: the stemming revision indexes the notes already there again, on both
    databases: a word finds its other forms, a prefix finds the word as written."""

    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    command.downgrade(config, "ef4ab980105d")

    def write(connection):  # type: ignore[no-untyped-def]
        connection.execute(
            text(
                "INSERT INTO users (id, username, username_key, email, password_hash, is_active, created_at) "
                "VALUES (1, 'alice', 'alice', 'alice@example.com', 'x', true, '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO notes (id, author_id, title, content, is_pinned, created_at, updated_at, "
                "version) VALUES (1, 1, 'Quokkas', 'running', false, '2026-01-01', '2026-01-01', 1)"
            )
        )
        connection.commit()

    asyncio.run(_inspect(database_url, write))
    command.upgrade(config, "head")
    sqlite = database_url.startswith("sqlite")
    queries = (
        [
            "SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'quokka AND run'",
            "SELECT rowid FROM notes_title_fts WHERE notes_title_fts MATCH 'quokka'",
            "SELECT rowid FROM notes_prefix_fts WHERE notes_prefix_fts MATCH '\"runn\"*'",
        ]
        if sqlite
        else [
            "SELECT id FROM notes WHERE (to_tsvector('notes_english'::regconfig, title || ' ' || content) "
            "@@ to_tsquery('notes_english', 'quokka & run & the'))",
        ]
    )

    def read(connection):  # type: ignore[no-untyped-def]
        return [connection.execute(text(query)).scalars().all() for query in queries]

    if not sqlite:  # "the" is no stop word: the note has no "the", so nothing; without it, the note
        assert asyncio.run(_inspect(database_url, read)) == [[]]
        queries[0] = queries[0].replace(" & the", "")
    assert asyncio.run(_inspect(database_url, read)) == [[1]] * len(queries)
