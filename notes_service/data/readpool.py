"""A fixed pool of asyncpg connections for single-statement reads, lighter than `asyncpg.Pool`.

asyncpg's pool wraps each checkout in a holder, a proxy, an `asyncio.Queue` and a shielded release
with timeouts, and costs about as much CPU per read as the round trip itself (measured in process,
64 concurrent requests of two reads each on 10 connections: 335-440 µs of CPU a request through
`Pool.fetch`, 186-258 through this pool). A read here takes the most recently used idle connection
(a list pop), or waits in line (a future); giving it back hands it to the first waiter still waiting,
or puts it back on the list. Public asyncpg API only (`connect`, `fetch`, `execute`, `is_closed`,
`close`, `terminate`).

Each connection plans its statements one of two ways (`plan_cache_mode`, a session setting): once
per connection for the reads marked `generic_plan` (compiled.py), at each execution for the others.
Both kinds share the one limit on connections: a read takes an idle connection of its kind, else
opens one while there is room, else switches an idle one of the other kind (`SET`, one round trip,
only when the kinds mix), else waits in the one line, and switches what it is handed if need be.

A connection goes back to the pool however its read ended, unless it is closed (its place then goes
to the next waiter, who opens a new one). A read cancelled mid-way (the client left) leaves asyncpg
cancelling it on the server, and asyncpg's every next call on that connection waits for that to
finish first; reads run single statements in autocommit, so no transaction can be left open.
Terminating such connections instead cost every wrk run's end a reconnection per pooled connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncpg

POOL_CLOSED = "the read pool is closed"
PLAN_CACHE_MODE = {True: "force_generic_plan", False: "auto"}  # generic plans or not


class ReadPool:
    """At most `size` connections, opened as reads need them; waiters served first come, first served.

    `connect(generic)` opens a connection whose `plan_cache_mode` is `PLAN_CACHE_MODE[generic]`.
    """

    def __init__(self, connect: Callable[[bool], Awaitable[asyncpg.Connection]], size: int) -> None:
        self._connect = connect
        self._size = size
        self._idle: dict[bool, list[asyncpg.Connection]] = {True: [], False: []}  # most recent last
        self._generic: dict[asyncpg.Connection, bool] = {}  # each open connection's kind
        # A waiter's future gets a connection, or None: "a place is free, open one yourself".
        self._waiters: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._places = 0  # connections open or being opened
        self._closed = False

    async def fetch(self, sql: str, arguments: Sequence[Any], *, generic: bool = False) -> list[Any]:
        """The rows of one statement, on a pooled connection of the kind asked for."""
        idle = self._idle[generic]
        connection = idle.pop() if idle else await self._wait(generic)
        try:
            return await connection.fetch(sql, *arguments)
        finally:
            self._give_back(connection)

    @contextlib.asynccontextmanager
    async def acquire(self, *, generic: bool = False) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the pool for a few statements of one's own (tests, tools)."""
        idle = self._idle[generic]
        connection = idle.pop() if idle else await self._wait(generic)
        try:
            yield connection
        finally:
            self._give_back(connection)

    @property
    def in_use(self) -> int:
        """Connections lent out now (or being opened for a read)."""
        return self._places - sum(len(idle) for idle in self._idle.values())

    def expire(self) -> None:
        """Drop every idle connection (the server restarted, say): reads open fresh ones."""
        for idle in self._idle.values():
            while idle:
                self._discard(idle.pop())

    async def close(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                connection = idle.pop()
                self._generic.pop(connection, None)
                await connection.close()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError(POOL_CLOSED))

    async def _wait(self, generic: bool) -> asyncpg.Connection:
        if self._closed:
            raise RuntimeError(POOL_CLOSED)
        if self._places < self._size:
            self._places += 1
            return await self._open(generic)
        if other := self._idle[not generic]:
            return await self._switched(other.pop(), generic)
        waiter: asyncio.Future[asyncpg.Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            connection = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed a place just as it was cancelled
                self._pass_on(waiter.result())
            raise
        if connection is None:
            return await self._open(generic)
        return await self._switched(connection, generic)

    async def _open(self, generic: bool) -> asyncpg.Connection:
        """Open a connection in a place already counted; the place is passed on if that fails."""
        try:
            connection = await self._connect(generic)
        except BaseException:
            self._pass_on(None)
            raise
        self._generic[connection] = generic
        return connection

    async def _switched(self, connection: asyncpg.Connection, generic: bool) -> asyncpg.Connection:
        """`connection`, planning the other way if it did not already."""
        if self._generic.get(connection) is not generic:
            try:
                await connection.execute(f"SET plan_cache_mode = {PLAN_CACHE_MODE[generic]}")
            except BaseException:  # the setting is unknown now: that connection is done
                self._discard(connection)
                raise
            self._generic[connection] = generic
        return connection

    def _give_back(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed():
            self._discard(connection)
        else:
            self._pass_on(connection)

    def _discard(self, connection: asyncpg.Connection) -> None:
        self._generic.pop(connection, None)
        connection.terminate()
        self._pass_on(None)

    def _pass_on(self, connection: asyncpg.Connection | None) -> None:
        """A connection (or a free place) to the first waiter still waiting, else back to the pool."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if connection is None:
            self._places -= 1
        else:
            self._idle[self._generic[connection]].append(connection)
