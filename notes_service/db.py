"""The database: declarative base, engine and sessions.

The engine and sessionmaker are made when the app starts serving and disposed when it stops. Each
request gets one session, opened on first use and closed at teardown. On SQLite every connection runs
in WAL mode with foreign keys on and a busy timeout, and a write transaction starts with
`BEGIN IMMEDIATE`: a deferred transaction that reads and then writes fails at once with SQLITE_BUSY
when another process is writing, whatever the busy timeout.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quart import Quart, current_app, g
from sqlalchemy import DateTime, MetaData, event, false, literal, select, union_all
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session, SessionTransaction
from sqlalchemy.types import TypeDecorator

from .dberrors import missing_schema

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 4
SERVER_POOL_SIZE = 10  # per worker, for PostgreSQL; reader.py has its own pool of reads
SQLITE_CACHE_KIB = 1024  # page cache per connection (SQLite's default is 2 MiB); reader.py too
WRITE = {"notes_begin": "IMMEDIATE"}


class Base(DeclarativeBase):
    """Base of every table; constraint names follow one convention so migrations can name them."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite keeps no offset, so we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


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
    mode = connection.get_execution_options().get("notes_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def sessionmaker_for(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep their objects after commit; on SQLite they share one write lock."""
    info = {"write_lock": asyncio.Lock()} if engine.dialect.name == "sqlite" else {}
    return async_sessionmaker(engine, expire_on_commit=False, info=info)


def init_app(app: Quart) -> None:
    """Open the engine when the app starts serving, dispose of it when it stops."""

    @app.before_serving
    async def open_engine() -> None:
        engine = create_engine(app.config["NOTES"].database_url)
        app.extensions["db"] = sessionmaker_for(engine)

    @app.after_serving
    async def close_engine() -> None:
        sessionmaker = app.extensions.pop("db", None)
        if sessionmaker is not None:
            await sessionmaker.kw["bind"].dispose()

    @app.teardown_appcontext
    async def close_session(_error: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            await session.close()


def get_session() -> AsyncSession:
    """The request's session, opened on first use."""
    session = g.get("db_session")
    if session is None:
        session = g.db_session = current_app.extensions["db"]()
    return session


async def begin_write(session: AsyncSession) -> None:
    """Make sure the session is in a write transaction; every write of a request shares it.

    A read transaction is ended first. On SQLite the write transaction starts with BEGIN IMMEDIATE,
    after taking this worker's write lock: the workers' writers then queue in order here instead of
    polling SQLite's busy handler, whose back-off gave a long latency tail under load.
    """
    if session.info.get("writing"):
        return
    if session.in_transaction():
        await session.commit()  # end the read snapshot; nothing was written
    lock: asyncio.Lock | None = session.info.get("write_lock")
    if lock is not None:
        await lock.acquire()
    session.info["writing"] = True
    try:
        await session.connection(execution_options=WRITE)
    except BaseException:
        await session.rollback()  # releases the lock (see _end_write)
        raise


@event.listens_for(Session, "after_transaction_end")
def _end_write(session: Session, transaction: SessionTransaction) -> None:
    """Commit, rollback or close ended the write transaction: let the next writer in."""
    if transaction.parent is None and session.info.pop("writing", False):
        lock = session.info.get("write_lock")
        if lock is not None:
            lock.release()


async def ping() -> str | None:
    """None when the database answers and holds every table, else why it is not ready."""
    every_table = union_all(
        *(select(literal(1)).select_from(table).where(false()) for table in Base.metadata.sorted_tables)
    )
    try:
        async with current_app.extensions["db"]() as session:
            await session.execute(every_table)
    except Exception as error:  # noqa: BLE001 - any failure means "not ready"
        return "database not migrated" if missing_schema(error) else "database unavailable"
    return None
