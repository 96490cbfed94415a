"""The read path: hot read-only statements, compiled once per worker.

On SQLite, aiosqlite hops to a thread for every driver call, several per query, and SQLAlchemy's
per-execution bookkeeping costs more than the indexed read itself (py-spy showed them as most of a
`GET /api/notes`; see the README's Performance section). So each hot statement (the session or
token check, note lists and counts) is a SQLAlchemy Core `select` compiled once (`Reader.prepared`)
and run inline on one synchronous, query-only sqlite3 connection per worker, with the columns' own
result processors. Each statement
sees the latest commit (WAL), and WAL readers never wait for writers. Other backends (asyncpg) run the
same statements through the async engine's pool. Writes always go through the ORM session (db.py).
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from quart import Quart, current_app
from sqlalchemy import Select
from sqlalchemy.engine import Compiled
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from .db import SQLITE_CACHE_KIB, UTCDateTime

# Reads hold a connection for one query: a fixed pool that waiters queue for beats opening and
# closing overflow connections under load (measured: a tenth of a PostgreSQL read was connecting).
POOL_SIZE = 10


class Reader:
    """Runs prepared read-only statements: inline on SQLite, through the async engine elsewhere."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.dialect = engine.dialect
        self.sqlite: sqlite3.Connection | None = None
        self.engine: AsyncEngine | None = None
        self._prepared: dict[int, Prepared] = {}
        if engine.dialect.name != "sqlite":
            # Autocommit and no ping per checkout: a read is one round trip instead of several
            # (ping, BEGIN, query, ROLLBACK). A connection dropped since its last use is retried once.
            self.engine = create_async_engine(
                engine.url, isolation_level="AUTOCOMMIT", pool_size=POOL_SIZE, max_overflow=0
            )
        else:
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
        if self.engine is not None:
            return await self._all_pooled(prepared, params)
        compiled = prepared.compiled
        values = compiled.construct_params(params)
        binders = compiled._bind_processors
        positional = [
            binders[name](values[name]) if name in binders else values[name]
            for name in compiled.positiontup or ()
        ]
        raw = self.sqlite.execute(compiled.string, positional)
        make, convert = prepared.row._make, prepared.processors
        rows = []
        for raw_row in raw.fetchall():
            row = list(raw_row)
            for index, process in convert:
                row[index] = process(row[index])
            rows.append(make(row))
        return rows

    async def first(self, prepared: Prepared, **params: Any) -> Any | None:
        rows = await self.all(prepared, **params)
        return rows[0] if rows else None

    async def _all_pooled(self, prepared: Prepared, params: dict[str, Any], retry: bool = True) -> list[Any]:
        assert self.engine is not None
        try:
            async with self.engine.connect() as connection:
                result = await connection.execute(prepared.statement, params)
                return [prepared.row._make(row) for row in result]
        except DBAPIError as error:
            if retry and error.connection_invalidated:  # the server restarted since: one new try
                return await self._all_pooled(prepared, params, retry=False)
            raise

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.engine is not None:
            await self.engine.dispose()


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
    processors: list[tuple[int, Callable[[Any], Any]]]  # (column index, converter), where needed
    row: type[tuple[Any, ...]]


def init_app(app: Quart) -> None:
    """Open the reader once the engine exists (db.init_app registers first), close it at the end."""

    @app.before_serving
    async def open_reader() -> None:
        app.extensions["db_reader"] = Reader(app.extensions["db"].kw["bind"])

    @app.after_serving
    async def close_reader() -> None:
        await app.extensions.pop("db_reader").close()


def get_reader() -> Reader:
    return current_app.extensions["db_reader"]  # type: ignore[no-any-return]
