"""Write transactions commit together; SQLite writers queue per worker; PostgreSQL drops are healed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from notes_service.models import ApiToken, User
from notes_service.services import tokens, users


async def test_writes_of_one_transaction_commit_or_roll_back_together(app, factory) -> None:
    user = await factory.user()
    hasher = app.extensions["hasher"]
    async with app.extensions["db"]() as session:
        await tokens.issue_token(session, user_id=user.id, name="t", expires_in_days=None)
        await session.commit()
    async with app.extensions["db"]() as session:
        await users.set_password(session, hasher, user_id=user.id, password="a new password!")
        await tokens.revoke_all_tokens(session, user_id=user.id)  # a second write, same transaction
        await session.rollback()
    async with app.extensions["db"]() as session:
        assert await session.scalar(select(User.password_hash)) == user.password_hash
        assert await session.scalar(select(func.count(ApiToken.id))) == 1


async def test_sqlite_writers_of_a_worker_take_turns(app, factory, settings) -> None:
    if not settings["database_url"].startswith("sqlite"):
        pytest.skip("PostgreSQL locks rows, not the database")
    user = await factory.user()
    lock = app.extensions["db"].kw["info"]["write_lock"]
    first, second = app.extensions["db"](), app.extensions["db"]()
    await tokens.revoke_all_tokens(first, user_id=user.id)
    assert lock.locked()
    waiting = asyncio.create_task(tokens.revoke_all_tokens(second, user_id=user.id))
    await asyncio.sleep(0.05)
    assert not waiting.done()  # queued behind the first writer, not polling SQLite
    await first.commit()
    await asyncio.wait_for(waiting, 5)
    await second.close()  # closing an open write transaction lets the next writer in too
    await first.close()
    assert not lock.locked()


def test_one_touch_per_interval_is_claimed() -> None:
    from datetime import timedelta

    from notes_service.services.touches import Touches

    touches = Touches(timedelta(minutes=1))
    assert [touches.claim(7), touches.claim(7), touches.claim(8)] == [True, False, True]
    touches.claimed[7] -= 61  # a minute later
    assert touches.claim(7) is True


async def test_postgresql_connections_dropped_by_a_restart_are_replaced(client, factory, settings) -> None:
    if settings["database_url"].startswith("sqlite"):
        pytest.skip("SQLite has no server to restart")
    from tests.conftest import _pg_admin, api_token, bearer

    await factory.user(email="ann@example.com")
    headers = bearer(await api_token(client, "ann@example.com"))
    assert (
        await client.post("/api/notes", json={"title": "before", "content": "c"}, headers=headers)
    ).status_code == 201
    database = settings["database_url"].rsplit("/", 1)[1]
    # What a PostgreSQL restart does to the pools' idle connections, without restarting it.
    await asyncio.to_thread(
        _pg_admin,
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
