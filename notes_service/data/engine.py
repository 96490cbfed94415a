"""Engines: the same connection setup for the service, the command line and migrations.

On SQLite every connection runs in WAL mode with foreign keys on and a busy timeout, and we issue
BEGIN ourselves: the driver's own is always DEFERRED, and a deferred transaction that reads and then
writes fails at once with SQLITE_BUSY when another process is writing, whatever the busy timeout.
A connection given the execution option `sqlite_begin="IMMEDIATE"` (the store's write blocks)
takes the write lock when it begins.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 4
SERVER_POOL_SIZE = 10  # per worker, for PostgreSQL writes; reads.py has its own pool
SQLITE_CACHE_KIB = 1024  # page cache per connection (SQLite's default is 2 MiB); reads.py too
BEGIN_IMMEDIATE = {"sqlite_begin": "IMMEDIATE"}


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """Make an async engine; SQLite gets WAL, foreign keys, a busy timeout and explicit BEGINs."""
    sqlite = url.startswith("sqlite")
    if sqlite:
        # Writers take turns on SQLite whatever the pool size; fewer connections, less memory.
        options = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_POOL_SIZE, **options}
    else:
        # A fixed pool: overflow connections opened and closed under load cost more than waiting.
        options = {"pool_size": SERVER_POOL_SIZE, "max_overflow": 0, **options}
    engine = create_async_engine(url, pool_pre_ping=not sqlite, **options)
    if engine.dialect.name == "sqlite":
        if engine.url.database and engine.url.database != ":memory:":
            Path(engine.url.database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine.sync_engine, "connect", _configure_sqlite)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
    return engine


def import_driver(url: str) -> None:
    """Import the URL's SQLAlchemy dialect and driver now rather than when the first engine opens:
    `serve` forks its workers after building the app, and modules imported before the fork are
    shared by every worker (the SQLite pair costs a worker 2 MiB of its own when imported after)."""
    make_url(url).get_dialect().import_dbapi()


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let us issue BEGIN ourselves (the driver's own BEGIN is always DEFERRED).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")
