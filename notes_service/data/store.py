"""The one way to reach the database: a `Store` per request, command or background task.

Services take a `Store` as their only database parameter and never choose how to reach the
database:

- **Reads** (`rows`, `row`, `scalar`) outside a write block run on the fast read path (`reads.py`);
  inside one they run on the write transaction, so a request reads its own uncommitted writes.
- **Writes** (`execute`) only happen inside `async with store.write():`, opened by the route (or the
  command, or the background task), never by a service. At its first statement (a read or a write)
  the block takes this worker's writer lock on SQLite and begins the transaction (`BEGIN IMMEDIATE`
  there); it commits once at the end, rolls back on error and releases the lock. Work before the
  first statement, like rendering a note's HTML, so holds no lock. A block opened inside another
  joins it.
- **Which database** it is, a service never asks: where the SQL differs it gives the store one way per
  database (`for_dialect`) and the store takes this one's; a read written for many calls at once
  (batches.py) it makes only where the store `can_batch`.
- **Rows** of a `Read` are its row type, a NamedTuple the service declares (rowtypes.py).

A store is per request because a write block's transaction is state; opening one costs nothing, and
outside write blocks it holds no connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, TypeVarTuple, overload

from sqlalchemy import false, literal, select, union_all
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import Executable, Select

from .batches import BatchedRead
from .dberrors import missing_schema
from .engine import BEGIN_IMMEDIATE, create_engine
from .listen import listening_connection
from .reads import Reads
from .rowtypes import Read, Row
from .types import Base

if TYPE_CHECKING:
    import asyncpg

Columns = TypeVarTuple("Columns")
Choice = TypeVar("Choice")
NOT_IN_WRITE_BLOCK = "writes go inside `async with store.write():`, opened by the route"
ONE_STATEMENT = "a block opened with `store.write(alone=True)` holds one statement"


class Publisher(Protocol):
    """Who hears of committed write blocks: the worker's live streams (live/)."""

    def publish(self, user_ids: frozenset[int], *, revoked: bool) -> None:
        """These users' notes changed; `revoked`: sign-ins may have ended. Must not block."""


class Database:
    """What a worker opens once: the engine (writes), the fast read path and SQLite's writer lock."""

    def __init__(self, engine: AsyncEngine, reads: Reads) -> None:
        self.engine = engine
        self.reads = reads
        self.dialect: str = engine.dialect.name
        # One writer per worker at a time on SQLite: writers then queue here in order instead of
        # polling SQLite's busy handler, whose back-off gave a long latency tail under load.
        self.write_lock = asyncio.Lock() if self.dialect == "sqlite" else None
        self.publisher: Publisher | None = None  # set while the worker serves live streams

    @classmethod
    async def open(cls, url: str) -> Database:
        engine = create_engine(url)
        return cls(engine, await Reads.open(engine))

    def store(self) -> Store:
        return Store(self)

    async def listen(self, channel: str, deliver: Callable[[str], None]) -> asyncpg.Connection:
        """PostgreSQL: a connection of its own that hands each notification on `channel` to
        `deliver` (listen.py); the caller closes it."""
        return await listening_connection(self.engine, channel, deliver)

    async def ready(self) -> str | None:
        """None when the database answers and holds every table, else why not."""
        every_table = union_all(
            *(select(literal(1)).select_from(table).where(false()) for table in Base.metadata.sorted_tables)
        )
        try:
            async with self.engine.connect() as connection:
                await connection.execute(every_table)
        except Exception as error:  # whatever the driver raises, the database is not ready
            return "database not migrated" if missing_schema(error) else "database unavailable"
        return None

    async def close(self) -> None:
        await self.reads.close()
        await self.engine.dispose()


class Store:
    """Reads and write blocks for one request (see the module docstring)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._block: contextlib.AsyncExitStack | None = None  # the open write block
        self._writing: AsyncConnection | None = None  # its transaction, once begun
        self._changed: set[int] = set()  # authors whose notes the open write block changed
        self._revoked = False  # whether it ends sign-ins (`revoked`)
        self._alone = False  # whether the open write block is one statement (`write(alone=True)`)

    @overload
    async def rows(self, statement: Read[Row], /, **params: Any) -> list[Row]: ...
    @overload
    async def rows(self, statement: Select[*Columns], /, **params: Any) -> list[Any]: ...
    async def rows(self, statement: Read[Any] | Select[*Columns], /, **params: Any) -> list[Any]:
        """Every row of a read: a `Read`'s rows are its row type; a bare statement's have attribute
        access by column name."""
        if self._block is not None:
            if isinstance(statement, Read):
                return statement.make(await (await self._transaction()).execute(statement.statement, params))
            return list((await (await self._transaction()).execute(statement, params)).all())
        return await self.database.reads.rows(statement, params)

    async def batched_rows(self, read: BatchedRead[Row], /, **params: Any) -> list[Row]:
        """`rows` of a read written for many calls (batches.py): outside a write block, read in one
        statement with the calls that other requests make beside it. Only where `can_batch`."""
        if self._block is not None:
            return await self.rows(read.read, **read.arrays([params]))
        return await self.database.reads.batched_rows(read, params)

    @property
    def can_batch(self) -> bool:
        """Whether `batched_rows` reads here: on PostgreSQL (arrays, `unnest`), where a read is a
        round trip to share; a SQLite read is a library call, with nothing to share."""
        return self.database.reads.batches is not None

    def for_dialect(self, *, sqlite: Choice, postgresql: Choice) -> Choice:
        """Of a service's two ways to do one thing, the one for this database (a search, say, is the
        database's own full-text index): services say what each database takes, the store chooses."""
        return {"sqlite": sqlite, "postgresql": postgresql}[self.database.dialect]

    @overload
    async def row(self, statement: Read[Row], /, **params: Any) -> Row | None: ...
    @overload
    async def row(self, statement: Select[*Columns], /, **params: Any) -> Any | None: ...
    async def row(self, statement: Read[Any] | Select[*Columns], /, **params: Any) -> Any | None:
        """The first row of a read, or None."""
        rows = await self.rows(statement, **params)
        return rows[0] if rows else None

    async def scalar(self, statement: Select[*Columns], **params: Any) -> Any:
        """The first column of the first row, or None."""
        found = await self.row(statement, **params)
        return None if found is None else found[0]

    @contextlib.asynccontextmanager
    async def write(self, *, alone: bool = False) -> AsyncIterator[None]:
        """One transaction: begun at the block's first statement, committed at the end, rolled back
        on error. `alone`: the block is one statement, which PostgreSQL then runs as a transaction
        of its own (no BEGIN and COMMIT round trips; what it locks is held while it runs, not over
        a round trip to this worker and back); a second statement in it raises."""
        if self._block is not None:
            yield  # joins the block this request already has open
            return
        async with contextlib.AsyncExitStack() as block:  # holds the lock, connection and transaction
            self._block = block
            self._alone = alone
            try:
                yield
            finally:
                self._block = self._writing = None
                changed, self._changed = self._changed, set()
                revoked, self._revoked = self._revoked, False
        # Committed (an error skips this): `changed` names the authors whose feed moved on; the
        # stream (live/) publishes them here, once per block, without waiting for anything.
        if (changed or revoked) and (publisher := self.database.publisher) is not None:
            publisher.publish(frozenset(changed), revoked=revoked)

    def changed(self, author_id: int) -> None:
        """Note that this write block changes the author's notes (services/changes.py `next_seq`):
        once it commits, the author's readers are told to look (live/)."""
        if self._block is None:
            raise RuntimeError(NOT_IN_WRITE_BLOCK)
        self._changed.add(author_id)

    def revoked(self) -> None:
        """Note that this write block ends sign-ins (a token or auth session deleted, an account
        deactivated or deleted): once it commits, live streams check theirs at once (live/)."""
        if self._block is None:
            raise RuntimeError(NOT_IN_WRITE_BLOCK)
        self._revoked = True

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """Inside a write block: a part that can fail (a unique constraint, say) without the rest."""
        async with (await self._transaction()).begin_nested():
            yield

    async def execute(self, statement: Executable, **params: Any) -> CursorResult[Any]:
        """Run a write (INSERT, UPDATE, DELETE) in the open write block."""
        return await (await self._transaction()).execute(statement, params or None)

    @property
    def _alone_here(self) -> bool:
        """Whether the open block runs as one statement (`write(alone=True)`): on PostgreSQL. SQLite's
        BEGIN and COMMIT are library calls, and its writers take turns anyway."""
        return self._alone and self.database.dialect == "postgresql"

    async def _transaction(self) -> AsyncConnection:
        """The write block's connection; the first call takes the lock and begins the transaction."""
        if self._writing is not None:
            if self._alone_here:
                raise RuntimeError(ONE_STATEMENT)
            return self._writing
        if self._block is None:
            raise RuntimeError(NOT_IN_WRITE_BLOCK)
        if (lock := self.database.write_lock) is not None:
            await self._block.enter_async_context(lock)
        connection = await self._block.enter_async_context(self.database.engine.connect())
        if self._alone_here:  # the server commits the statement as it ends
            await connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            await connection.execution_options(**BEGIN_IMMEDIATE)
            await self._block.enter_async_context(connection.begin())
        self._writing = connection
        return connection
