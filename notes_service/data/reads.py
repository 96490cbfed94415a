"""The fast read path: compiled statements run straight on the driver, outside any transaction.

Inline on one synchronous, query-only sqlite3 connection (WAL readers see the latest commit and
never wait for writers; aiosqlite's thread hop per call cost more than the indexed read itself), or
on an asyncpg pool in autocommit, one round trip per read. Only `Store` uses this module.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, TypeVarTuple

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select

from .batches import BatchedRead, Batches
from .compiled import CompiledCache
from .engine import SQLITE_CACHE_KIB
from .rowtypes import Read, Row

if TYPE_CHECKING:
    from .readpool import ReadPool

# Reads hold a connection for one query: a fixed pool that waiters queue for beats opening and
# closing connections under load (measured: a tenth of a PostgreSQL read was connecting).
POOL_SIZE = 10
BATCHES_NEED_POSTGRESQL = "a BatchedRead is PostgreSQL's (arrays, unnest); SQLite reads are library calls"
Columns = TypeVarTuple("Columns")


class Reads:
    """Runs read-only statements: inline on SQLite, on an asyncpg pool on PostgreSQL."""

    def __init__(
        self,
        compiled: CompiledCache,
        sqlite: sqlite3.Connection | None = None,
        pool: ReadPool | None = None,
        dropped: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.compiled = compiled
        self.sqlite = sqlite
        self.pool = pool
        self.dropped = dropped  # what a connection the server dropped raises: that read is retried once
        self.batches = Batches(self) if pool is not None else None

    @classmethod
    async def open(cls, engine: AsyncEngine) -> Reads:
        """Reads on the engine's database, with the engine's own connection arguments."""
        compiled = CompiledCache(engine.dialect)
        if engine.dialect.name == "sqlite":
            connection = sqlite3.connect(
                engine.url.database or ":memory:", isolation_level=None, check_same_thread=False
            )
            connection.execute("PRAGMA query_only = ON")
            connection.execute("PRAGMA busy_timeout = 1000")
            connection.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            return cls(compiled, sqlite=connection)
        import asyncpg  # here, not at the top: SQLite workers would carry 3 MiB more

        from .readpool import PLAN_CACHE_MODE, ReadPool

        args, options = engine.dialect.create_connect_args(engine.url)
        # The URL's `prepared_statement_cache_size` (SQLAlchemy's name, for its own cache of the
        # writes' statements) sizes asyncpg's statement cache here: 0 turns both off.
        if (cache_size := options.pop("prepared_statement_cache_size", None)) is not None:
            options["statement_cache_size"] = int(cache_size)
        # Connections open as reads need them; no transaction around a single read (autocommit),
        # so nothing to reset when one is given back (asyncpg's pool sent `RESET ALL` and more after
        # every read: a second round trip).

        async def connect(generic: bool) -> asyncpg.Connection:
            # Statements marked `generic_plan` run on connections that plan them once (readpool.py),
            # set by a SET: as a startup parameter PgBouncer would refuse the connection.
            connection = await asyncpg.connect(*args, **options)
            if generic:
                try:
                    await connection.execute(f"SET plan_cache_mode = {PLAN_CACHE_MODE[generic]}")
                except BaseException:
                    connection.terminate()
                    raise
            return connection

        pool = ReadPool(connect, POOL_SIZE)
        dropped = (
            asyncpg.PostgresConnectionError,
            asyncpg.AdminShutdownError,
            asyncpg.InterfaceError,
            asyncpg.InternalClientError,  # a connection caught mid-way by the server's goodbye
            OSError,
        )
        return cls(compiled, pool=pool, dropped=dropped)

    async def rows(self, statement: Select[*Columns] | Read[Any], params: dict[str, Any]) -> list[Any]:
        """Rows with attribute access by column name (labels where names repeat): a `Read`'s row type."""
        compiled = self.compiled.get(statement)
        arguments = compiled.arguments(params)
        if self.sqlite is not None:
            return compiled.rows(self.sqlite.execute(compiled.sql, arguments).fetchall())
        pool, generic = self.pool, compiled.generic_plan
        assert pool is not None
        try:
            raw_rows = await pool.fetch(compiled.sql, arguments, generic=generic)
        except self.dropped:  # the server restarted since this connection's last use, say
            # A restart drops every pooled connection: reconnect rather than try the next dead one.
            pool.expire()
            raw_rows = await pool.fetch(compiled.sql, arguments, generic=generic)
        return compiled.rows(raw_rows)

    def data_version(self) -> int | None:
        """SQLite's `PRAGMA data_version` on the read connection: it changes whenever another
        connection (another worker, a command, this worker's writes) has committed since the last
        call; a library call, no I/O when nothing changed. None on PostgreSQL."""
        if self.sqlite is None:
            return None
        version: int = self.sqlite.execute("PRAGMA data_version").fetchone()[0]
        return version

    async def batched_rows(self, read: BatchedRead[Row], params: dict[str, Any]) -> list[Row]:
        """One call's rows of a `BatchedRead` (PostgreSQL), in one statement with the calls made
        beside it (batches.py)."""
        if self.batches is None:
            raise RuntimeError(BATCHES_NEED_POSTGRESQL)
        return await self.batches.rows(read, params)

    async def close(self) -> None:
        if self.batches is not None:
            await self.batches.close()
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pool is not None:
            await self.pool.close()
