"""Reads whose concurrent calls share one round trip (PostgreSQL): a statement for many callers.

On PostgreSQL a read is a round trip: the worker writes to a socket, the backend wakes, binds and
executes, and the worker wakes again. For the token check with the first page that fixed part cost
about as much as reading the rows (bench/per_request/pg_round_trip.py: `SELECT 1` alone 48 µs of
the worker's CPU and 27-33 of the backend's). Under load a worker has tens of requests in flight,
most of them starting with that same read. A `BatchedRead` gathers the calls made during one turn
of the event loop and sends them as one statement: each call's own parameters become one element
of array parameters, which the statement `unnest`s `WITH ORDINALITY`, one row per call, numbered
`n`. The database does each call's work as before (a call never gets another call's rows, even for
the same key: two callers with one token read it twice); only the round trip is shared.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Generic, Protocol

from .rowtypes import Read, Row

MOST_CALLS = 64  # calls in one statement at most; more start the next batch
READS_CLOSED = "the worker's reads are closed"


class RowSource(Protocol):
    """What sends a batch's statement: the worker's `Reads` (reads.py)."""

    async def rows(self, statement: Read[Any], params: dict[str, Any]) -> list[Any]: ...


@dataclass(frozen=True)
class BatchedRead(Generic[Row]):
    """A read written for many calls at once: `per_call` names its array parameters (one element
    per call, `unnest`ed `WITH ORDINALITY`), and its rows have the ordinality as `n` (1 for the
    first call). Its other parameters are shared: only calls that give the same values share a
    statement. PostgreSQL only (arrays, `unnest`)."""

    read: Read[Row]
    per_call: tuple[str, ...]

    def arrays(self, calls: list[dict[str, Any]]) -> dict[str, Any]:
        """The statement's parameters for these calls, in order."""
        shared = {name: value for name, value in calls[0].items() if name not in self.per_call}
        return {**shared, **{name: [call[name] for call in calls] for name in self.per_call}}

    def group_of(self, params: dict[str, Any]) -> Hashable:
        """What calls must have in common to share a statement: their shared parameters' values."""
        return tuple(sorted((name, value) for name, value in params.items() if name not in self.per_call))


class Batch:
    """The calls of one read gathered in one turn of the event loop, each waiting on its future."""

    def __init__(self, read: BatchedRead[Any]) -> None:
        self.read = read
        self.calls: list[tuple[dict[str, Any], asyncio.Future[list[Any]]]] = []

    def add(self, params: dict[str, Any]) -> asyncio.Future[list[Any]]:
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self.calls.append((params, future))
        return future

    async def send(self, reads: RowSource) -> None:
        """Read every call still waiting (a caller may have left) in one statement, and answer each
        with its own rows; an error fails every call not answered yet (a cancellation is
        `Batches.close`, which answers them)."""
        waiting = [(params, future) for params, future in self.calls if not future.done()]
        try:
            if waiting:
                rows = await reads.rows(self.read.read, self.read.arrays([params for params, _ in waiting]))
                answers: list[list[Any]] = [[] for _ in waiting]
                for row in rows:  # n runs from 1 (WITH ORDINALITY); any other n names no call
                    if not 1 <= row.n <= len(answers):
                        raise ValueError(f"a row numbered {row.n} for {len(answers)} calls")
                    answers[row.n - 1].append(row)
                for (_, future), answer in zip(waiting, answers, strict=True):
                    if not future.done():
                        future.set_result(answer)
        except Exception as error:  # each caller raises it, as if it had read alone
            self.fail(error)

    def fail(self, error: Exception) -> None:
        for _, future in self.calls:
            if not future.done():
                future.set_exception(error)


class Batches:
    """The batches of one worker's reads: the one gathering calls for each read and group, and the
    ones being sent."""

    def __init__(self, reads: RowSource, most: int = MOST_CALLS) -> None:
        self.reads = reads
        self.most = most
        self._gathering: dict[tuple[BatchedRead[Any], Hashable], Batch] = {}
        self._sending: dict[asyncio.Task[None], Batch] = {}  # held here so that none is collected
        self._closed = False

    async def rows(self, read: BatchedRead[Row], params: dict[str, Any]) -> list[Row]:
        """This call's rows, read in the statement of every call of this turn of the loop."""
        key = (read, read.group_of(params))
        batch = self._gathering.get(key)
        if batch is None:
            batch = self._gathering[key] = Batch(read)
            # Sent once the requests already waiting to run in this turn of the loop have joined.
            asyncio.get_running_loop().call_soon(self._send, key, batch)
        future = batch.add(params)
        if len(batch.calls) >= self.most:
            self._stop_gathering(key, batch)
        return await future

    def _send(self, key: tuple[BatchedRead[Any], Hashable], batch: Batch) -> None:
        self._stop_gathering(key, batch)
        if self._closed:
            batch.fail(RuntimeError(READS_CLOSED))
            return
        task = asyncio.get_running_loop().create_task(batch.send(self.reads))
        self._sending[task] = batch
        task.add_done_callback(self._sending.pop)

    def _stop_gathering(self, key: tuple[BatchedRead[Any], Hashable], batch: Batch) -> None:
        """No more calls join this batch; the next call of its read starts another."""
        if self._gathering.get(key) is batch:
            del self._gathering[key]

    async def close(self) -> None:
        """Stop reading: every call waiting, gathered or sent, fails with READS_CLOSED."""
        self._closed = True
        batches = [*self._gathering.values(), *self._sending.values()]
        self._gathering.clear()
        for task in list(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        for batch in batches:  # a task cancelled before its first step never ran `send`
            batch.fail(RuntimeError(READS_CLOSED))
