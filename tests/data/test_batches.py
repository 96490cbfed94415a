"""Batched reads: the calls of one turn of the event loop share one statement, each gets only its
own rows, and a caller that leaves or a statement that fails never answers another call wrongly.

The statement itself is a stand-in here (`Statements`: it answers each call with rows naming its
own parameters), so these run on every backend; the PostgreSQL statement is in test_round_trips.py.
"""

from __future__ import annotations

import asyncio
from collections import namedtuple
from typing import Any

import pytest
from sqlalchemy import select, true

from notes_service.data import Read
from notes_service.data.batches import READS_CLOSED, BatchedRead, Batches

Row = namedtuple("Row", "n key limit")
READ = BatchedRead(Read(select(true()), Row), per_call=("key",))


class Statements:
    """Stands in for `Reads`: records each statement's parameters; answers each call (one element of
    the `key` array) with two rows naming its key, unless told to fail or to wait."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.fail: Exception | None = None
        self.started = asyncio.Event()  # a statement was sent
        self.release = asyncio.Event()
        self.release.set()

    async def rows(self, _statement: Any, params: dict[str, Any]) -> list[Row]:
        self.sent.append(params)
        self.started.set()
        await self.release.wait()
        if self.fail is not None:
            raise self.fail
        return [Row(n, key, params["limit"]) for n, key in enumerate(params["key"], 1) for _ in range(2)]


@pytest.fixture
def statements() -> Statements:
    return Statements()


async def test_the_calls_of_one_turn_share_one_statement_and_each_gets_its_own_rows(statements) -> None:
    batches = Batches(statements)  # type: ignore[arg-type]
    answers = await asyncio.gather(*(batches.rows(READ, {"key": key, "limit": 5}) for key in "abca"))
    assert statements.sent == [{"key": ["a", "b", "c", "a"], "limit": 5}]  # "a" twice: read twice
    assert [[row.key for row in rows] for rows in answers] == [["a", "a"], ["b", "b"], ["c", "c"], ["a", "a"]]
    assert await batches.rows(READ, {"key": "d", "limit": 5}) == [Row(1, "d", 5)] * 2  # a later turn: alone
    assert len(statements.sent) == 2


async def test_calls_share_a_statement_only_with_the_same_shared_values_and_up_to_a_most(statements) -> None:
    batches = Batches(statements, most=2)  # type: ignore[arg-type]
    calls = [
        {"key": "a", "limit": 5},
        {"key": "b", "limit": 9},
        {"key": "c", "limit": 5},
        {"key": "d", "limit": 5},
    ]
    answers = await asyncio.gather(*(batches.rows(READ, call) for call in calls))
    sent = sorted((tuple(params["key"]), params["limit"]) for params in statements.sent)
    assert sent == [(("a", "c"), 5), (("b",), 9), (("d",), 5)]
    assert [(rows[0].key, rows[0].limit) for rows in answers] == [("a", 5), ("b", 9), ("c", 5), ("d", 5)]


async def test_a_caller_that_left_before_the_statement_is_left_out_of_it(statements) -> None:
    batches = Batches(statements)  # type: ignore[arg-type]
    leaving = asyncio.ensure_future(batches.rows(READ, {"key": "a", "limit": 5}))
    staying = asyncio.ensure_future(batches.rows(READ, {"key": "b", "limit": 5}))
    await asyncio.sleep(0)  # both joined the batch, which is not sent yet
    leaving.cancel()
    assert [row.key for row in await asyncio.wait_for(staying, 2)] == ["b", "b"]
    assert statements.sent == [{"key": ["b"], "limit": 5}]


async def test_a_caller_that_leaves_mid_statement_leaves_the_others_their_rows(statements) -> None:
    batches = Batches(statements)  # type: ignore[arg-type]
    statements.release.clear()
    leaving = asyncio.ensure_future(batches.rows(READ, {"key": "a", "limit": 5}))
    staying = asyncio.ensure_future(batches.rows(READ, {"key": "b", "limit": 5}))
    await asyncio.wait_for(statements.started.wait(), 2)
    leaving.cancel()
    await asyncio.sleep(0)
    statements.release.set()
    assert [row.key for row in await asyncio.wait_for(staying, 2)] == ["b", "b"]
    assert leaving.cancelled()


async def test_a_failed_statement_fails_each_of_its_calls_and_the_next_batch_reads_again(statements) -> None:
    batches = Batches(statements)  # type: ignore[arg-type]
    statements.fail = ConnectionError("the server went away")
    answers = await asyncio.wait_for(
        asyncio.gather(
            *(batches.rows(READ, {"key": key, "limit": 5}) for key in "ab"), return_exceptions=True
        ),
        2,
    )
    assert [type(answer) for answer in answers] == [ConnectionError, ConnectionError]
    statements.fail = None
    assert [row.key for row in await batches.rows(READ, {"key": "c", "limit": 5})] == ["c", "c"]


async def test_rows_that_name_no_call_fail_the_batch_rather_than_go_to_another(statements) -> None:
    batches = Batches(statements)  # type: ignore[arg-type]

    async def numbered_from_zero(_statement: Any, params: dict[str, Any]) -> list[Row]:
        return [Row(n, key, 5) for n, key in enumerate(params["key"])]

    statements.rows = numbered_from_zero  # type: ignore[method-assign]
    answers = await asyncio.wait_for(
        asyncio.gather(
            *(batches.rows(READ, {"key": key, "limit": 5}) for key in "ab"), return_exceptions=True
        ),
        2,
    )
    assert [type(answer) for answer in answers] == [ValueError, ValueError]


@pytest.mark.parametrize("when", ["gathering", "sent, not started", "in flight"])
async def test_closing_fails_every_waiting_call_and_refuses_new_ones(statements, when) -> None:
    batches = Batches(statements)  # type: ignore[arg-type]
    statements.release.clear()
    waiting = asyncio.ensure_future(batches.rows(READ, {"key": "a", "limit": 5}))
    await asyncio.sleep(0)  # the call joined a batch, whose send is scheduled for the next turn
    if when != "gathering":
        batches._send(*next(iter(batches._gathering.items())))  # the scheduled send, run now
    if when == "in flight":
        await asyncio.wait_for(statements.started.wait(), 2)
    await asyncio.wait_for(batches.close(), 2)
    with pytest.raises(RuntimeError, match=READS_CLOSED):
        await asyncio.wait_for(waiting, 2)
    with pytest.raises(RuntimeError, match=READS_CLOSED):
        await asyncio.wait_for(batches.rows(READ, {"key": "b", "limit": 5}), 2)


async def test_a_batched_read_on_sqlite_says_it_is_postgresqls(settings, store) -> None:
    if not settings["database_url"].startswith("sqlite"):
        pytest.skip("the guard is for SQLite")
    with pytest.raises(RuntimeError, match="PostgreSQL's"):
        await store.batched_rows(READ, key="a", limit=5)
