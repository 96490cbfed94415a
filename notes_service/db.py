"""The database: declarative base, engine and sessions.

The engine and sessionmaker are made when the app starts serving and disposed when it stops. Each
request gets one session, opened on first use and closed at teardown. On SQLite every connection runs
in WAL mode with foreign keys on and a busy timeout, and a write transaction starts with
`BEGIN IMMEDIATE`: a deferred transaction that reads and then writes fails at once with SQLITE_BUSY
when another process is writing, whatever the busy timeout.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from quart import Quart, current_app, g
from sqlalchemy import DateTime, MetaData, Select, event, text
from sqlalchemy.engine import Compiled, Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_POOL_SIZE = 4
SQLITE_CACHE_KIB = 1024  # page cache per connection (SQLite's default is 2 MiB)
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


class Reader:
    """Runs the read-only statements of the hot paths (token checks, note lists).

    On SQLite, aiosqlite hops to a thread for every driver call, several per query, and SQLAlchemy's
    per-execution bookkeeping costs more than the indexed read itself. So each hot statement is
    compiled once (`prepared`) and run inline on one synchronous, query-only sqlite3 connection per
    worker, with the columns' own result processors: each statement sees the latest commit (WAL),
    and WAL readers never wait for writers. Other backends (asyncpg) use the async engine's pool.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.sqlite: sqlite3.Connection | None = None
        self._prepared: dict[int, Prepared] = {}
        if engine.dialect.name == "sqlite":
            self.sqlite = sqlite3.connect(
                engine.url.database or ":memory:", isolation_level=None, check_same_thread=False
            )
            self.sqlite.execute("PRAGMA query_only = ON")
            self.sqlite.execute("PRAGMA busy_timeout = 1000")
            self.sqlite.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")

    def prepared(self, statement: Select[Any], row: type[Any] | None = None) -> Prepared:
        """`statement` compiled for this backend, once per worker; rows come as `row` (a NamedTuple
        with the statement's column names), or as a namedtuple made here."""
        if (found := self._prepared.get(id(statement))) is not None:
            return found
        columns = statement.selected_columns
        self._prepared[id(statement)] = Prepared(
            statement=statement,
            compiled=statement.compile(dialect=self.dialect),
            processors=[_result_processor(column.type, self.dialect) for column in columns],
            row=row or namedtuple("Row", [column.key for column in columns]),  # type: ignore[misc]
        )
        return self._prepared[id(statement)]

    async def all(self, prepared: Prepared, **params: Any) -> list[Any]:
        """Rows with attribute access by column name (labels where names repeat)."""
        if self.sqlite is None:
            async with self.engine.connect() as connection:
                return [
                    prepared.row._make(row) for row in await connection.execute(prepared.statement, params)
                ]
        compiled = prepared.compiled
        values = compiled.construct_params(params)
        binders = compiled._bind_processors
        positional = [
            binders[name](values[name]) if name in binders else values[name]
            for name in compiled.positiontup or ()
        ]
        raw = self.sqlite.execute(compiled.string, positional)
        processors, make = prepared.processors, prepared.row._make
        return [
            make(
                value if process is None else process(value)
                for value, process in zip(row, processors, strict=True)
            )
            for row in raw.fetchall()
        ]

    async def first(self, prepared: Prepared, **params: Any) -> Any | None:
        rows = await self.all(prepared, **params)
        return rows[0] if rows else None

    def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()


def _result_processor(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The column type's own processor, except UTC datetimes on SQLite, parsed by the C parser."""
    if isinstance(column_type, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_utc_datetime
    return column_type._cached_result_processor(dialect, None)  # type: ignore[no-any-return]


def _sqlite_utc_datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Prepared:
    """A statement compiled once for this backend, with the result processors of its columns."""

    statement: Select[Any]
    compiled: Compiled
    processors: list[Any]
    row: type[tuple[Any, ...]]


def init_app(app: Quart) -> None:
    """Open the engine when the app starts serving, dispose of it when it stops."""

    @app.before_serving
    async def open_engine() -> None:
        engine = create_engine(app.config["NOTES"].database_url)
        app.extensions["db"] = async_sessionmaker(engine, expire_on_commit=False)
        app.extensions["db_reader"] = Reader(engine)

    @app.after_serving
    async def close_engine() -> None:
        app.extensions.pop("db_reader").close()
        sessionmaker = app.extensions.pop("db", None)
        if sessionmaker is not None:
            await sessionmaker.kw["bind"].dispose()

    @app.teardown_appcontext
    async def close_session(_error: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            await session.close()


def get_reader() -> Reader:
    return current_app.extensions["db_reader"]  # type: ignore[no-any-return]


def get_session() -> AsyncSession:
    """The request's session, opened on first use."""
    session = g.get("db_session")
    if session is None:
        session = g.db_session = current_app.extensions["db"]()
    return session


async def begin_write(session: AsyncSession) -> None:
    """Start a write transaction (ending any read one), so concurrent writers queue, not fail."""
    if session.in_transaction():
        await session.commit()
    await session.connection(execution_options=WRITE)


async def ping() -> bool:
    """True when the database answers a trivial query."""
    try:
        async with current_app.extensions["db"]() as session:
            await session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False
    return True
