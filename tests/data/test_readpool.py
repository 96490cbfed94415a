"""The PostgreSQL read pool: bounded, first come first served, and nothing lost to a cancelled read
or a cancelled wait; the hot reads' lane plans its statements once per connection."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from notes_service.data import Database
from notes_service.data.readpool import PLAN_CACHE_MODE, ReadPool
from notes_service.services import notes, tokens


@pytest.fixture
def dsn(settings: dict[str, Any]) -> str:
    if settings["database_url"].startswith("sqlite"):
        pytest.skip("SQLite reads have no pool")
    return str(settings["database_url"]).replace("postgresql+asyncpg://", "postgresql://", 1)


def pool_of(dsn: str, size: int) -> ReadPool:
    import asyncpg

    return ReadPool(
        lambda generic: asyncpg.connect(dsn, server_settings={"plan_cache_mode": PLAN_CACHE_MODE[generic]}),
        size,
    )


async def test_reads_share_at_most_size_connections_in_turn(dsn) -> None:
    pool = pool_of(dsn, 2)
    try:
        pids = await asyncio.gather(
            *(pool.fetch("SELECT pg_backend_pid(), pg_sleep(0.01)", ()) for _ in range(12))
        )
        assert len({rows[0][0] for rows in pids}) == 2
    finally:
        await pool.close()


async def test_a_read_cancelled_mid_way_leaves_its_connection_usable(dsn) -> None:
    pool = pool_of(dsn, 1)
    try:
        before = (await pool.fetch("SELECT pg_backend_pid()", ()))[0][0]
        slow = asyncio.create_task(pool.fetch("SELECT pg_sleep(5)", ()))
        await asyncio.sleep(0.2)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        # The same connection, once asyncpg has had the server cancel the statement.
        after = await asyncio.wait_for(pool.fetch("SELECT pg_backend_pid(), 42", ()), 3)
        assert (after[0][0], after[0][1]) == (before, 42)
    finally:
        await pool.close()


async def test_a_wait_cancelled_in_line_loses_no_place(dsn) -> None:
    pool = pool_of(dsn, 1)
    try:
        async with pool.acquire():
            waiting = asyncio.create_task(pool.fetch("SELECT 1", ()))
            await asyncio.sleep(0.05)
            waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert (await asyncio.wait_for(pool.fetch("SELECT 2", ()), 3))[0][0] == 2
    finally:
        await pool.close()


async def test_a_closed_connection_is_replaced(dsn) -> None:
    pool = pool_of(dsn, 1)
    try:
        async with pool.acquire() as connection:
            first = await connection.fetchval("SELECT pg_backend_pid()")
            await connection.close()
        assert (await asyncio.wait_for(pool.fetch("SELECT pg_backend_pid()", ()), 3))[0][0] != first
    finally:
        await pool.close()


async def test_hot_reads_run_on_connections_that_plan_them_once(settings, dsn) -> None:
    database = await Database.open(settings["database_url"])
    try:
        reads = database.reads
        for statement, generic in (
            (notes.FIRST_PAGE, True),
            (tokens.TOKEN_USER, True),
            (tokens.USER_TOKENS, False),
        ):
            assert reads.compiled.get(statement).generic_plan is generic
        assert reads.pool is not None
        async with reads.pool.acquire(generic=True) as connection:
            assert await connection.fetchval("SHOW plan_cache_mode") == "force_generic_plan"
        async with reads.pool.acquire() as connection:
            assert await connection.fetchval("SHOW plan_cache_mode") == "auto"
    finally:
        await database.close()


async def test_both_kinds_of_reads_share_the_limit_switching_a_connection_when_they_mix(dsn) -> None:
    pool = pool_of(dsn, 1)
    try:
        modes = []
        for generic in (True, False, False, True):
            async with pool.acquire(generic=generic) as connection:
                modes.append((await connection.fetchval("SHOW plan_cache_mode"), connection.get_server_pid()))
        assert [mode for mode, _ in modes] == ["force_generic_plan", "auto", "auto", "force_generic_plan"]
        assert len({pid for _, pid in modes}) == 1  # the one connection, switched, never a second
        # A waiter of the other kind is handed the busy connection when it comes back, switched.
        async with pool.acquire(generic=True):
            waiting = asyncio.create_task(pool.fetch("SHOW plan_cache_mode", ()))
            await asyncio.sleep(0.05)
        assert (await asyncio.wait_for(waiting, 3))[0][0] == "auto"
    finally:
        await pool.close()
