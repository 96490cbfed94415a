"""`Idempotency-Key` on POST /api/notes (SPEC §10): a retry with the key gets the first answer and
makes nothing, for 24 hours, even when it races the first request."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from notes_service.data import utcnow
from notes_service.data.models import IdempotencyKey, Note
from notes_service.http.current import session_lifetime
from notes_service.services import notes
from notes_service.serving.housekeeping import delete_expired
from tests.helpers import api_token, bearer

NOTE = {"title": "once", "content": "only once"}


@pytest.fixture
async def alice(client, factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    await factory.user("alice")
    return bearer(await api_token(client, "alice@example.com"))


async def post(client, headers, key: str | None, body: dict[str, Any] = NOTE) -> Any:  # type: ignore[no-untyped-def]
    extra = {} if key is None else {"Idempotency-Key": key}
    return await client.post("/api/notes", json=body, headers={**headers, **extra})


async def count(store) -> int:  # type: ignore[no-untyped-def]
    return int(await store.scalar(select(func.count(Note.id))))


async def test_a_retry_gets_the_first_answer_and_makes_nothing(client, alice, store) -> None:
    first = await post(client, alice, "key-1")
    again = await post(client, alice, "key-1", {"content": "only once", "title": "once"})  # same body
    assert (first.status_code, again.status_code) == (201, 201)
    assert await again.get_data() == await first.get_data()
    for header in ("Location", "ETag", "Content-Type"):
        assert again.headers[header] == first.headers[header]
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert await count(store) == 1
    await client.patch(first.headers["Location"], json={"title": "edited"}, headers=alice)
    assert await (await post(client, alice, "key-1")).get_data() == await first.get_data()  # the first answer
    assert (await post(client, alice, "key-2")).status_code == 201 and await count(store) == 2
    assert (await post(client, alice, None)).status_code == 201 and await count(store) == 3


async def test_keys_are_each_users_own(client, alice, factory, store) -> None:
    await factory.user("bob")
    bob = bearer(await api_token(client, "bob@example.com"))
    mine, bobs = await post(client, alice, "shared"), await post(client, bob, "shared")
    assert (await mine.get_json())["id"] != (await bobs.get_json())["id"]
    assert await count(store) == 2


async def test_the_key_with_another_body_is_refused(client, alice, store) -> None:
    await post(client, alice, "key")
    other = await post(client, alice, "key", {"title": "other", "content": "x"})
    assert other.status_code == 422
    assert (await other.get_json())["error"] == "Idempotency-Key already used for another request"
    assert await count(store) == 1


@pytest.mark.parametrize("key", ["", "x" * 201, "has space", "clé", "tab\there"])
async def test_a_bad_key_is_a_400_that_says_why(client, alice, store, key: str) -> None:
    response = await post(client, alice, key)
    assert response.status_code == 400
    body = await response.get_json()
    assert body["error"] == "Invalid Idempotency-Key: 1 to 200 visible ASCII characters (a UUID, say)"
    assert await count(store) == 0


async def test_a_refused_first_request_keeps_no_answer(client, alice, store) -> None:
    assert (await post(client, alice, "key", {"title": "", "content": "x"})).status_code == 422
    assert (await post(client, alice, "key")).status_code == 201 and await count(store) == 1


async def test_keys_last_24_hours(client, alice, app, store) -> None:
    first = await post(client, alice, "key")
    async with store.write():
        await store.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    later = await post(client, alice, "key")  # expired: a new note, and the key is the new one's
    assert later.status_code == 201 and "Idempotent-Replayed" not in later.headers
    assert (await later.get_json())["id"] != (await first.get_json())["id"]
    assert await (await post(client, alice, "key")).get_data() == await later.get_data()
    async with store.write():
        await store.execute(update(IdempotencyKey).values(created_at=utcnow() - timedelta(hours=25)))
    await delete_expired(store.database, session_lifetime(app.config["NOTES"]))
    assert await store.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


async def test_two_requests_racing_with_one_key_make_one_note(client, alice, store, monkeypatch) -> None:
    """The second waits at its claim of the key until the first commits (PostgreSQL: on the key's
    row; SQLite: behind the first's write block), then answers as the first did."""
    create = notes.create_note

    async def slow_create(*args: Any, **kwargs: Any) -> Any:
        note = await create(*args, **kwargs)
        await asyncio.sleep(0.1)  # the other request arrives while this one's block is open
        return note

    monkeypatch.setattr(notes, "create_note", slow_create)
    answers = await asyncio.gather(*(post(client, alice, "raced") for _ in range(3)))
    assert [answer.status_code for answer in answers] == [201] * 3
    assert len({await answer.get_data() for answer in answers}) == 1
    assert sorted("Idempotent-Replayed" in answer.headers for answer in answers) == [False, True, True]
    assert await count(store) == 1
