"""Test databases: migrated once per run, copied per test (SQLite file or PostgreSQL template).

`NOTES_TEST_DATABASE=postgresql` runs everything on PostgreSQL (127.0.0.1:5432 by default, see
`NOTES_TEST_POSTGRES_URL`); each test gets its own database cloned from a migrated template.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from notes_service.cli import alembic_config

BACKEND = os.environ.get("NOTES_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("NOTES_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def migrate(url: str) -> None:
    """Bring the database at `url` to the newest migration."""
    from alembic import command

    config = alembic_config(url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def pg_admin(statements: list[str]) -> None:
    """Run statements on the PostgreSQL server's maintenance database (create, drop, terminate)."""
    for statement in statements:
        pg_value(POSTGRES_URL, statement)


def pg_value(url: str, statement: str, *args: Any) -> Any:
    """Run one statement on the database at `url` (a SQLAlchemy URL); the first column of its first row."""
    import asyncpg

    async def run() -> Any:
        dsn = url.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            return await connection.fetchval(statement, *args)
        finally:
            await connection.close()

    return asyncio.run(run())


@contextmanager
def pg_database(template: str) -> Iterator[str]:
    """The URL of a new database cloned from the migrated `template`, dropped (connections and all) after."""
    name = f"notes_test_{uuid.uuid4().hex[:12]}"
    pg_admin([f"CREATE DATABASE {name} TEMPLATE {template}"])
    try:
        yield pg_url(name)
    finally:
        pg_admin([f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])


def pg_url(database: str) -> str:
    """The URL of another database on the test PostgreSQL server."""
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + database
