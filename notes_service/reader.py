"""The read path: hot read-only statements, compiled once per worker, run straight on the driver.

SQLAlchemy's per-execution bookkeeping costs more than an indexed read itself (py-spy showed it as
most of a `GET /api/notes` on SQLite, and a third of the reader's time on PostgreSQL; see the README's
Performance section). So each hot statement (the session or token check, note lists and counts) is a
SQLAlchemy Core `select` compiled once per worker (`Reader.prepared`) and run on the driver with the
columns' own result processors: inline on one synchronous, query-only sqlite3 connection (WAL
readers see the latest commit and never wait for writers), or on an asyncpg pool in autocommit,
one round trip per read. Writes always go through the ORM session (db.py).
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from quart import Quart, current_app
from sqlalchemy import Select
from sqlalchemy.engine import Compiled, Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from .db import SQLITE_CACHE_KIB, UTCDateTime

if TYPE_CHECKING:
    import asyncpg

# Reads hold a connection for one query: a fixed pool that waiters queue for beats opening and
# closing connections under load (measured: a tenth of a PostgreSQL read was connecting).
POOL_SIZE = 10


@dataclass(frozen=True)
class Prepared:
    """A statement compiled once for this backend, with the result processors of its columns."""

    compiled: Compiled
    processors: list[tuple[int, Callable[[Any], Any]]]  # (column index, converter), where needed
    row: type[tuple[Any, ...]]

    def arguments(self, params: dict[str, Any]) -> list[Any]:
        """`params` in the driver's positional order, through the columns' bind processors."""
        values = self.compiled.construct_params(params)
        binders = self.compiled._bind_processors
        return [
            binders[name](values[name]) if name in binders else values[name]
            for name in self.compiled.positiontup or ()
        ]

    def rows(self, raw_rows: Sequence[Sequence[Any]]) -> list[Any]:
        make, convert = self.row._make, self.processors
        if not convert:
            return [make(raw_row) for raw_row in raw_rows]
        rows = []
        for raw_row in raw_rows:
            row = list(raw_row)
            for index, process in convert:
                row[index] = process(row[index])
            rows.append(make(row))
        return rows


class Reader:
    """Runs prepared read-only statements: inline on SQLite, on an asyncpg pool on PostgreSQL."""

    def __init__(
        self,
        dialect: Dialect,
        sqlite: sqlite3.Connection | None = None,
        pool: asyncpg.Pool | None = None,
        dropped: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.dialect = dialect
        self.sqlite = sqlite
        self.pool = pool
        self.dropped = dropped  # what a connection the server dropped raises: that read is retried once
        self._prepared: dict[int, Prepared] = {}

    @classmethod
    async def open(cls, engine: AsyncEngine) -> Reader:
        """A reader on the engine's database, with the engine's own connection arguments."""
        if engine.dialect.name == "sqlite":
            connection = sqlite3.connect(
                engine.url.database or ":memory:", isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA query_only = ON")
            connection.execute("PRAGMA busy_timeout = 1000")
            connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            return cls(engine.dialect, sqlite=connection)
        import asyncpg  # here, not at the top: SQLite workers would carry 3 MiB more

        args, options = engine.dialect.create_connect_args(engine.url)
        # Connections open as reads need them; no transaction around a single read (autocommit).
        pool = await asyncpg.create_pool(*args, min_size=0, max_size=POOL_SIZE, **options)
        dropped = (
            asyncpg.PostgresConnectionError,
            asyncpg.AdminShutdownError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,  # a connection caught mid-way by the server's goodbye
            OSError,
        )
        return cls(engine.dialect, pool=pool, dropped=dropped)

    def prepared(self, statement: Select[Any], row: type[Any] | None = None) -> Prepared:
        """`statement` compiled for this backend, once per worker; rows come as `row` (a NamedTuple
        with the statement's column names), or as a namedtuple made here."""
        if (found := self._prepared.get(id(statement))) is not None:
            return found
        columns = statement.selected_columns
        self._prepared[id(statement)] = Prepared(
            compiled=statement.compile(dialect=self.dialect),
            processors=[
                (index, process)
                for index, column in enumerate(columns)
                if (process := _result_processor(column.type, self.dialect)) is not None
            ],
            row=row or namedtuple("Row", [column.key for column in columns]),  # type: ignore[misc]
        )
        return self._prepared[id(statement)]

    async def all(self, prepared: Prepared, **params: Any) -> list[Any]:
        """Rows with attribute access by column name (labels where names repeat)."""
        arguments = prepared.arguments(params)
        if self.sqlite is not None:
            return prepared.rows(self.sqlite.execute(prepared.compiled.string, arguments).fetchall())
        assert self.pool is not None
        try:
            raw_rows = await self.pool.fetch(prepared.compiled.string, *arguments)
        except self.dropped:  # the server restarted since this connection's last use, say
            # A restart drops every pooled connection: reconnect rather than try the next dead one.
            await self.pool.expire_connections()
            raw_rows = await self.pool.fetch(prepared.compiled.string, *arguments)
        return prepared.rows(raw_rows)

    async def first(self, prepared: Prepared, **params: Any) -> Any | None:
        rows = await self.all(prepared, **params)
        return rows[0] if rows else None

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pool is not None:
            await self.pool.close()


def _result_processor(column_type: Any, dialect: Any) -> Callable[[Any], Any] | None:
    """The column type's own processor, except UTC datetimes on SQLite, parsed by the C parser."""
    if isinstance(column_type, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_utc_datetime
    return column_type._cached_result_processor(dialect, None)  # type: ignore[no-any-return]


def _sqlite_utc_datetime(value: str | None) -> datetime | None:
    # One parse with the offset appended: 0.5 µs, against 2.8 µs for parse-then-`replace(tzinfo=UTC)`.
    return None if value is None else datetime.fromisoformat(value + "+00:00")


def init_app(app: Quart) -> None:
    """Open the reader once the engine exists (db.init_app registers first), close it at the end."""

    @app.before_serving
    async def open_reader() -> None:
        app.extensions["db_reader"] = await Reader.open(app.extensions["db"].kw["bind"])

    @app.after_serving
    async def close_reader() -> None:
        await app.extensions.pop("db_reader").close()


def get_reader() -> Reader:
    return current_app.extensions["db_reader"]  # type: ignore[no-any-return]
