"""Test databases: migrated once per run, copied per test (SQLite file or PostgreSQL template).

`NOTES_TEST_DATABASE=postgresql` runs everything on PostgreSQL (127.0.0.1:5432 by default, see
`NOTES_TEST_POSTGRES_URL`); each test gets its own database cloned from a migrated template.
"""

from __future__ import annotations

import asyncio
import os

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
    import asyncpg

    async def run() -> None:
        dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
        connection = await asyncpg.connect(dsn, timeout=5)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def pg_url(database: str) -> str:
    """The URL of another database on the test PostgreSQL server."""
    return POSTGRES_URL.rsplit("/", 1)[0] + "/" + database
