"""PostgreSQL round trips of the hot read: counted at the driver, every statement asyncpg sends.

A read costs one round trip once its statement is prepared (a plain first page of notes by token
is one read: the token check and the page in one statement); anything asyncpg sends besides the
statements we ask for (its pool's reset after each read, say) shows up here as an extra one.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

import pytest
from sqlalchemy import func, select, update

from notes_service.data import Database
from notes_service.data.models import ApiToken, User
from notes_service.services import first_page, notes, tags, tokens
from notes_service.services.first_page import WithFirstPage
from tests.helpers import api_token, bearer

SENDING = ("fetch", "fetchrow", "fetchval", "execute", "executemany", "prepare")


@pytest.fixture
def sent(settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """How many times each of asyncpg's statement-sending methods was called (pooled ones included:
    the pool's proxies look the method up on the class at each call)."""
    if settings["database_url"].startswith("sqlite"):
        pytest.skip("SQLite reads make no round trips")
    import asyncpg

    counter: Counter[str] = Counter()
    for name in SENDING:
        original = getattr(asyncpg.Connection, name)

        def counting(original: Any = original, name: str = name) -> Any:
            @wraps(original)
            async def send(*args: Any, **kwargs: Any) -> Any:
                counter[name] += 1
                return await original(*args, **kwargs)

            return send

        monkeypatch.setattr(asyncpg.Connection, name, counting())
    yield counter


async def test_a_first_page_of_notes_by_token_is_one_round_trip_on_postgresql(client, factory, sent) -> None:
    await factory.user(email="ann@example.com")
    headers = bearer(await api_token(client, "ann@example.com"))
    for title in ("one", "two"):
        await client.post("/api/notes", json={"title": title, "content": "c"}, headers=headers)
    assert (await client.get("/api/notes", headers=headers)).status_code == 200  # prepares, writes last-used
    sent.clear()
    for _ in range(3):
        assert len(await (await client.get("/api/notes", headers=headers)).get_json()) == 2
    assert dict(sent) == {"fetch": 3}  # the token check and the page in one statement; nothing after
    sent.clear()
    assert len(await (await client.get("/api/notes?limit=1", headers=headers)).get_json()) == 1
    assert dict(sent) == {"fetch": 2}  # any other page: the token check, then the page


async def test_the_first_page_read_with_the_token_is_the_page_read_alone(client, factory) -> None:
    # Same notes, order and fields, whichever way the page was read; a user without notes gets [].
    await factory.user(email="ann@example.com")
    headers = bearer(await api_token(client, "ann@example.com"))
    assert await (await client.get("/api/notes", headers=headers)).get_json() == []
    for title, pinned in (("one", False), ("two", True), ("three", False)):
        await client.post(
            "/api/notes", json={"title": title, "content": "c", "is_pinned": pinned}, headers=headers
        )
    combined = await (await client.get("/api/notes", headers=headers)).get_json()
    alone = await (await client.get("/api/notes?limit=50", headers=headers)).get_json()
    assert combined == alone and [note["title"] for note in combined] == ["two", "three", "one"]
    assert (await client.get("/api/notes", headers=bearer("nts_not-a-token"))).status_code == 401


async def test_the_urls_statement_cache_size_reaches_the_read_pool(settings, sent) -> None:
    # `?prepared_statement_cache_size=0` is SQLAlchemy's option (its cache of the writes' statements);
    # the read pool takes it as asyncpg's `statement_cache_size` instead of refusing to connect.
    database = await Database.open(settings["database_url"] + "?prepared_statement_cache_size=0")
    try:
        pool = database.reads.pool
        assert pool is not None
        assert await database.store().scalar(select(func.count(User.id))) == 0
        async with pool.acquire() as connection:  # the only one: the read above opened it
            # No named statement stays on the server connection (what PgBouncer < 1.21 cannot route).
            assert await connection.fetchval("SELECT count(*) FROM pg_prepared_statements") == 0
    finally:
        await database.close()


async def test_postgresql_reads_give_aware_utc_datetimes(factory, store, sent) -> None:
    # What lets the read path skip UTCDateTime's converter on asyncpg (compiled.result_converter).
    user = await factory.user()
    created = await store.scalar(select(User.created_at).where(User.id == user.id))
    assert created.utcoffset() == timedelta(0) and abs(datetime.now(UTC) - created) < timedelta(minutes=5)


def page_titles(found: tokens.FoundToken | None) -> list[str]:
    """The titles of the first page read with the token check (none when the token was refused)."""
    if found is None:
        return []
    assert isinstance(found.user, WithFirstPage)
    return [note.title for note in found.user.first_page]


async def test_first_pages_asked_for_together_are_one_statement_and_each_caller_gets_its_own(
    factory, store, sent
) -> None:
    secrets = {}
    for name, count in (("ann", 3), ("bob", 0), ("cat", 1), ("dan", 1), ("eve", 1)):
        user = await factory.user(name)
        async with store.write():
            for number in range(count):
                await notes.create_note(store, author_id=user.id, title=f"{name} {number}", content="c")
            token, secrets[name] = await tokens.issue_token(
                store, user_id=user.id, name="t", expires_in_days=1, security_stamp=None
            )
            if name == "dan":  # deactivated
                await store.execute(update(User).where(User.id == user.id).values(is_active=False))
            if name == "eve":  # past its expiry
                past = datetime.now(UTC) - timedelta(seconds=1)
                await store.execute(update(ApiToken).where(ApiToken.id == token.id).values(expires_at=past))
    asked = ["ann", "bob", "dan", "nobody", "cat", "eve", "ann"]
    secrets["nobody"] = "nts_not-a-token"
    await first_page.find_token_with_first_page(store, secret=secrets["ann"], limit=21)  # opens a connection
    sent.clear()
    answers = await asyncio.gather(
        *(first_page.find_token_with_first_page(store, secret=secrets[name], limit=21) for name in asked)
    )
    assert dict(sent) == {"fetch": 1}  # seven requests' token checks and pages, one round trip
    seen = [(found and found.user.username, page_titles(found)) for found in answers]
    assert seen == [
        ("ann", ["ann 2", "ann 1", "ann 0"]),
        ("bob", []),
        (None, []),
        (None, []),
        ("cat", ["cat 0"]),
        (None, []),
        ("ann", ["ann 2", "ann 1", "ann 0"]),
    ]


async def test_a_first_page_read_in_a_write_block_sees_the_blocks_own_writes(factory, store, sent) -> None:
    # (`sent` only skips this on SQLite: the statement is PostgreSQL's.)
    user = await factory.user()
    async with store.write():
        _, secret = await tokens.issue_token(
            store, user_id=user.id, name="t", expires_in_days=None, security_stamp=None
        )
        await notes.create_note(store, author_id=user.id, title="not committed yet", content="c")
        found = await first_page.find_token_with_first_page(store, secret=secret, limit=21)
        assert found is not None and page_titles(found) == ["not committed yet"]


@pytest.fixture
def commits(settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every COMMIT asyncpg sends (`Connection.execute`, as BEGIN and ROLLBACK: the statements we
    write go as prepared ones)."""
    if settings["database_url"].startswith("sqlite"):
        pytest.skip("SQLite's BEGIN and COMMIT are library calls, not round trips")
    import asyncpg

    sent: list[str] = []
    execute = asyncpg.Connection.execute

    @wraps(execute)
    async def recorded(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if query.strip().upper().startswith("COMMIT"):
            sent.append(query)
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "execute", recorded)
    yield sent


async def test_a_note_created_without_a_key_is_one_statement_with_no_commit(
    client, factory, store, commits
) -> None:
    # The author's row, which a create holds from taking its change number on, is then held while
    # the server runs the statement, not over round trips back to the worker and its event loop.
    user = await factory.user(email="ann@example.com")
    headers = bearer(await api_token(client, "ann@example.com"))
    first = await client.post("/api/notes", json={"title": "first", "content": "c"}, headers=headers)
    assert first.status_code == 201  # the token's first use is written meanwhile (its own block)
    commits.clear()
    created = await client.post(
        "/api/notes", json={"title": "t", "content": "c", "tags": ["b", "a"]}, headers=headers
    )
    assert created.status_code == 201
    assert commits == []
    note = await created.get_json()
    assert note["tags"] == ["b", "a"] and note["version"] == 1
    # All of it was written: the note, its tags' index rows, the author's change number.
    counts = await tags.count_tags(store, author_id=user.id)
    assert [(count.tag, count.notes) for count in counts] == [("a", 1), ("b", 1)]
    assert await store.scalar(select(User.change_seq).where(User.id == user.id)) == 2
    changes = await (await client.get("/api/changes", headers=headers)).get_json()
    assert [change["note"]["id"] for change in changes["changes"]] == [
        (await first.get_json())["id"],
        note["id"],
    ]

    keyed = {**headers, "Idempotency-Key": "k1"}  # the key's claim and the note: one transaction
    assert (
        await client.post("/api/notes", json={"title": "u", "content": "c"}, headers=keyed)
    ).status_code == 201
    assert len(commits) == 1


async def test_a_block_opened_alone_refuses_a_second_statement_on_postgresql(factory, store, commits) -> None:
    user = await factory.user()
    with pytest.raises(RuntimeError, match="holds one statement"):
        async with store.write(alone=True):
            await notes.create_note(store, author_id=user.id, title="one", content="c")
            await notes.create_note(store, author_id=user.id, title="two", content="c")
