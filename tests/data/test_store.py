"""The store: write blocks commit or roll back whole and hold nothing before their first statement,
reads see their own block's writes, SQLite writers queue per worker, writes outside a block are
refused, PostgreSQL drops are healed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from notes_service.data.models import ApiToken, Note, User
from notes_service.data.store import NOT_IN_WRITE_BLOCK
from notes_service.http.activity import Claims
from notes_service.services import notes, tokens, users
from tests.databases import pg_admin
from tests.helpers import api_token, bearer


async def test_a_write_block_commits_or_rolls_back_whole(factory, store) -> None:
    user = await factory.user()
    async with store.write():
        await tokens.issue_token(store, user_id=user.id, name="t", expires_in_days=None, security_stamp=None)
    with pytest.raises(ZeroDivisionError):
        async with store.write():
            await users.set_password_hash(store, user_id=user.id, password_hash="changed")
            await tokens.revoke_all_tokens(store, user_id=user.id)  # a second write, same transaction
            1 / 0  # noqa: B018 - the route fails after its writes
    assert await store.scalar(select(User.password_hash)) == user.password_hash
    assert await store.scalar(select(func.count(ApiToken.id))) == 1


async def test_a_write_block_holds_no_connection_or_lock_until_its_first_statement(
    app, factory, store
) -> None:
    user = await factory.user()
    database = app.extensions["database"]
    lock = database.write_lock or asyncio.Lock()  # PostgreSQL has no writer lock: never locked
    async with store.write():
        assert (database.engine.pool.checkedout(), lock.locked()) == (0, False)
        await tokens.revoke_all_tokens(store, user_id=user.id)
        assert (database.engine.pool.checkedout(), lock.locked()) == (1, database.write_lock is not None)
    assert (database.engine.pool.checkedout(), lock.locked()) == (0, False)


async def test_reads_inside_a_write_block_see_its_writes(factory, store) -> None:
    user = await factory.user()
    async with store.write():
        created = await notes.create_note(store, author_id=user.id, title="t", content="c")
        assert (await notes.get_note(store, note_id=created.id, author_id=user.id)).title == "t"
        assert (await notes.summarize_notes(store, author_id=user.id)).total == 1


async def test_a_write_outside_a_write_block_is_refused(factory, store) -> None:
    user = await factory.user()
    with pytest.raises(RuntimeError, match="store.write"):
        await notes.create_note(store, author_id=user.id, title="t", content="c")
    assert NOT_IN_WRITE_BLOCK.startswith("writes go inside")
    assert await store.scalar(select(func.count(Note.id))) == 0


async def test_a_block_opened_inside_another_joins_it(factory, store) -> None:
    user = await factory.user()
    with pytest.raises(ZeroDivisionError):
        async with store.write():
            async with store.write():
                await notes.create_note(store, author_id=user.id, title="inner", content="c")
            1 / 0  # noqa: B018 - the outer block fails: the inner write goes with it
    assert await store.scalar(select(func.count(Note.id))) == 0


async def test_sqlite_writers_of_a_worker_take_turns(app, factory, settings) -> None:
    if not settings["database_url"].startswith("sqlite"):
        pytest.skip("PostgreSQL locks rows, not the database")
    user = await factory.user()
    database = app.extensions["database"]
    first, second = database.store(), database.store()
    release = asyncio.Event()

    async def write(store, *, hold: bool) -> None:  # type: ignore[no-untyped-def]
        async with store.write():
            await tokens.revoke_all_tokens(store, user_id=user.id)
            if hold:
                await release.wait()

    holding = asyncio.create_task(write(first, hold=True))
    await asyncio.sleep(0.05)
    assert database.write_lock.locked()
    waiting = asyncio.create_task(write(second, hold=False))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # queued behind the first writer, not polling SQLite
    release.set()
    await asyncio.wait_for(asyncio.gather(holding, waiting), 5)
    assert not database.write_lock.locked()


def test_one_activity_write_per_interval_is_claimed() -> None:
    claims = Claims(seconds=60)
    key, other = ("token", 7), ("token", 8)
    assert [claims.claim(key), claims.claim(key), claims.claim(other)] == [True, False, True]
    claims.claimed[key] -= 61  # a minute later
    assert claims.claim(key) is True


async def test_postgresql_connections_dropped_by_a_restart_are_replaced(client, factory, settings) -> None:
    if settings["database_url"].startswith("sqlite"):
        pytest.skip("SQLite has no server to restart")
    await factory.user(email="ann@example.com")
    headers = bearer(await api_token(client, "ann@example.com"))
    assert (
        await client.post("/api/notes", json={"title": "before", "content": "c"}, headers=headers)
    ).status_code == 201
    database = settings["database_url"].rsplit("/", 1)[1]
    # What a PostgreSQL restart does to the pools' idle connections, without restarting it.
    await asyncio.to_thread(
        pg_admin,
        # The name is the fixture's own (notes_test_<hex>), not input.
        [f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'"],  # noqa: S608
    )
    listed = await client.get("/api/notes", headers=headers)  # the reader's pool: retried once
    written = await client.post(
        "/api/notes", json={"title": "after", "content": "c"}, headers=headers
    )  # pre-ping
    assert (listed.status_code, written.status_code) == (200, 201)
    assert [
        note["title"] for note in (await (await client.get("/api/notes", headers=headers)).get_json())
    ] == [
        "after",
        "before",
    ]


def test_sqlite_workers_do_not_load_the_postgresql_driver(tmp_path, settings) -> None:
    # asyncpg is 3 MiB of RSS per worker; only PostgreSQL workers need it.
    if not settings["database_url"].startswith("sqlite"):
        pytest.skip("PostgreSQL workers do need asyncpg")
    import subprocess
    import sys

    program = (
        "import asyncio, sys\n"
        "from notes_service import create_app\n"
        "app = create_app({'database_url': sys.argv[1], 'secret_key': 'x' * 48, 'env': 'test'})\n"
        "async def serve():\n"
        "    async with app.test_app():\n"
        "        assert (await app.test_client().get('/readyz')).status_code == 200\n"
        "asyncio.run(serve())\n"
        "print('asyncpg' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", program, settings["database_url"]], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
