"""A throwaway PostgreSQL database for the PostgreSQL variant, when a server is reachable.

The variant needs a local PostgreSQL (postgres@127.0.0.1:5432 by default, or BENCH_POSTGRES_URL); when
there is none the benchmark skips it with a note instead of failing. The database is created with a
random name and dropped afterwards, even when the run fails.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
CONNECT_TIMEOUT = 3


class Unreachable(Exception):
    """No PostgreSQL server answered at ADMIN_URL."""


@asynccontextmanager
async def temporary_database() -> AsyncIterator[str]:
    """Yield the plain URL (postgresql://…) of a new, empty database; drop it on the way out."""
    try:
        admin = await asyncpg.connect(ADMIN_URL, timeout=CONNECT_TIMEOUT)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        raise Unreachable(f"{ADMIN_URL.rpartition('@')[2]}: {error}") from error
    name = f"notes_bench_{secrets.token_hex(4)}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


def sqlalchemy_url(url: str) -> str:
    """The same database for SQLAlchemy's asyncpg dialect."""
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)
