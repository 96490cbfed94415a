"""API notes (SPEC §3): CRUD, ownership, keyset pages, bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from notes_service.data.models import Note
from notes_service.http.schemas import NoteOut
from notes_service.services import notes as notes_service
from tests.helpers import api_token, bearer

NOTE_FIELDS = set(NoteOut.model_fields)


@pytest.fixture
async def alice_headers(client, factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    await factory.user("alice")
    return bearer(await api_token(client, "alice@example.com"))


@pytest.fixture
async def bob_headers(client, factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    await factory.user("bob")
    return bearer(await api_token(client, "bob@example.com"))


async def note_count(store) -> int:  # type: ignore[no-untyped-def]
    return await store.scalar(select(func.count(Note.id)))  # type: ignore[no-any-return]


async def create(client, headers, **fields):  # type: ignore[no-untyped-def]
    response = await client.post("/api/notes", json={"content": "body", **fields}, headers=headers)
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


async def test_create_returns_note_and_location(client, alice_headers) -> None:
    response = await client.post(
        "/api/notes", json={"title": "  Hi  ", "content": "there"}, headers=alice_headers
    )
    body = await response.get_json()
    assert response.status_code == 201
    assert set(body) == NOTE_FIELDS
    assert (body["title"], body["content"], body["is_pinned"]) == ("Hi", "there", False)
    assert response.headers["Location"].endswith(f"/api/notes/{body['id']}")
    fetched = await client.get(f"/api/notes/{body['id']}", headers=alice_headers)
    assert await fetched.get_json() == body


async def test_patch_changes_only_given_fields(client, alice_headers) -> None:
    note = await create(client, alice_headers, title="t")
    response = await client.patch(f"/api/notes/{note['id']}", json={"is_pinned": True}, headers=alice_headers)
    body = await response.get_json()
    assert response.status_code == 200
    assert (body["title"], body["content"], body["is_pinned"]) == ("t", "body", True)
    assert body["updated_at"] > note["updated_at"]


async def test_put_replaces_and_needs_title_and_content(client, alice_headers) -> None:
    note = await create(client, alice_headers, title="t", is_pinned=True)
    response = await client.put(f"/api/notes/{note['id']}", json={"title": "new"}, headers=alice_headers)
    assert response.status_code == 422 and set((await response.get_json())["details"]) == {"content"}
    response = await client.put(
        f"/api/notes/{note['id']}", json={"title": "new", "content": "c"}, headers=alice_headers
    )
    body = await response.get_json()
    assert response.status_code == 200
    assert (body["title"], body["content"], body["is_pinned"]) == ("new", "c", False)


async def test_delete(app, client, alice_headers, store) -> None:
    note = await create(client, alice_headers, title="t")
    response = await client.delete(f"/api/notes/{note['id']}", headers=alice_headers)
    assert response.status_code == 204
    assert (await client.get(f"/api/notes/{note['id']}", headers=alice_headers)).status_code == 404
    assert await note_count(store) == 1  # in the trash (test_trash.py), not gone


async def test_another_users_note_is_403_and_untouched(app, client, alice_headers, bob_headers) -> None:
    note = await create(client, bob_headers, title="bob's")
    calls = [
        client.get(f"/api/notes/{note['id']}", headers=alice_headers),
        client.patch(f"/api/notes/{note['id']}", json={"title": "x"}, headers=alice_headers),
        client.put(f"/api/notes/{note['id']}", json={"title": "x", "content": "y"}, headers=alice_headers),
        client.delete(f"/api/notes/{note['id']}", headers=alice_headers),
    ]
    for call in calls:
        response = await call
        assert response.status_code == 403 and await response.get_json() == {"error": "Forbidden"}
    assert await (await client.get("/api/notes", headers=alice_headers)).get_json() == []
    assert await (await client.get(f"/api/notes/{note['id']}", headers=bob_headers)).get_json() == note


@pytest.mark.parametrize(
    "path", ["/api/notes/999999", "/api/notes/abc", "/api/notes/99999999999999999999999"]
)
async def test_missing_note_is_json_404(client, alice_headers, path) -> None:
    response = await client.get(path, headers=alice_headers)
    assert response.status_code == 404 and await response.get_json() == {"error": "Not found"}


async def test_unknown_route_and_wrong_method_are_json(client, alice_headers) -> None:
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404 and await response.get_json() == {"error": "Not found"}
    response = await client.post("/api/me", headers=alice_headers)
    assert response.status_code == 405 and (await response.get_json())["error"] == "Method not allowed"


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"title": "", "content": "x"}, {"title"}),
        ({"title": "   ", "content": "x"}, {"title"}),
        ({"title": "x" * 201, "content": "x"}, {"title"}),
        ({"title": "x", "content": ""}, {"content"}),
        ({"title": "x", "content": "x" * 100_001}, {"content"}),
        ({"title": 5, "content": "x"}, {"title"}),
        ({"title": "x", "content": "x", "is_pinned": "yes"}, {"is_pinned"}),
        ({"title": "x", "content": "x", "author_id": 2}, {"author_id"}),
        ({"content": "x"}, {"title"}),
        ({"title": "nul\x00", "content": "x"}, {"title"}),  # PostgreSQL text cannot hold NUL
    ],
)
async def test_invalid_note_is_422_naming_fields_and_nothing_stored(
    app, client, alice_headers, payload, fields, store
) -> None:
    response = await client.post("/api/notes", json=payload, headers=alice_headers)
    body = await response.get_json()
    assert response.status_code == 422, body
    assert body["error"] == "Validation failed" and set(body["details"]) == fields
    assert await note_count(store) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"data": "{bad json", "headers": {"Content-Type": "application/json"}},
        {"data": b"\x9b\x00", "headers": {"Content-Type": "application/json"}},
        {"json": ["a", "list"]},
        {"json": "a string"},
        {"data": ""},
    ],
)
async def test_malformed_body_is_400(app, client, alice_headers, kwargs, store) -> None:
    headers = {**alice_headers, **kwargs.pop("headers", {})}
    response = await client.post("/api/notes", headers=headers, **kwargs)
    assert response.status_code == 400 and (await response.get_json())["error"] == "No data provided"
    assert await note_count(store) == 0


async def test_null_is_not_a_value_in_patch(client, alice_headers) -> None:
    note = await create(client, alice_headers, title="t")
    response = await client.patch(f"/api/notes/{note['id']}", json={"title": None}, headers=alice_headers)
    assert response.status_code == 422 and set((await response.get_json())["details"]) == {"title"}


async def test_body_over_one_mebibyte_is_413(app, client, alice_headers, store) -> None:
    response = await client.post(
        "/api/notes", json={"title": "big", "content": "x" * (1024 * 1024 + 1)}, headers=alice_headers
    )
    assert response.status_code == 413 and "error" in await response.get_json()
    assert await note_count(store) == 0


async def walk(client, headers, url):  # type: ignore[no-untyped-def]
    """Follow `Link: rel="next"` to the end; returns every page."""
    pages = []
    while url:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200
        pages.append(await response.get_json())
        match = re.match(r'<https?://[^/]+([^>]+)>; rel="next"', response.headers.get("Link", ""))
        url = match.group(1) if match else None
    return pages


async def test_walk_120_notes_in_pages_of_50_sees_each_once_in_order(
    app, client, alice_headers, store
) -> None:
    me = await (await client.get("/api/me", headers=alice_headers)).get_json()
    async with store.write():
        for number in range(120):
            await notes_service.create_note(
                store, author_id=me["id"], title=f"n{number}", content="c", is_pinned=number % 7 == 0
            )
    pages = await walk(client, alice_headers, "/api/notes?limit=50")
    assert [len(page) for page in pages] == [50, 50, 20]
    seen = [note for page in pages for note in page]
    assert len({note["id"] for note in seen}) == 120
    keys = [(note["is_pinned"], note["created_at"], note["id"]) for note in seen]
    assert keys == sorted(keys, reverse=True)
    assert all(note["is_pinned"] for note in seen[:18]) and not any(note["is_pinned"] for note in seen[18:])


async def test_default_limit_is_50_and_max_200(client, alice_headers, store) -> None:
    me = await (await client.get("/api/me", headers=alice_headers)).get_json()
    async with store.write():
        for number in range(201):
            await notes_service.create_note(store, author_id=me["id"], title=f"n{number}", content="c")
    response = await client.get("/api/notes", headers=alice_headers)
    assert len(await response.get_json()) == 50 and "Link" in response.headers
    response = await client.get("/api/notes?limit=200", headers=alice_headers)
    assert response.status_code == 200 and len(await response.get_json()) == 200
    response = await client.get("/api/notes?limit=201", headers=alice_headers)
    assert response.status_code == 422 and "limit" in (await response.get_json())["details"]
    response = await client.get("/api/notes?limit=0", headers=alice_headers)
    assert response.status_code == 422


async def test_tampered_cursor_is_400(client, alice_headers) -> None:
    for _ in range(3):
        await create(client, alice_headers, title="t")
    response = await client.get("/api/notes?limit=1", headers=alice_headers)
    cursor = re.search(r"cursor=([^&>]+)", response.headers["Link"]).group(1)
    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for bad in (tampered, "garbage", "W10"):
        response = await client.get(f"/api/notes?cursor={bad}", headers=alice_headers)
        assert response.status_code == 400 and (await response.get_json())["error"] == "Invalid cursor"


async def test_secret_is_not_in_the_database_file(app, client, alice_headers, settings) -> None:
    if not settings["database_url"].startswith("sqlite"):
        pytest.skip("greps the SQLite file")
    token = alice_headers["Authorization"].split()[1]
    await create(client, alice_headers, title="t")
    path = Path(settings["database_url"].split("///", 1)[1])
    await app.extensions["database"].engine.dispose()  # checkpoint the WAL into the file
    files = [path, path.with_name(path.name + "-wal")]
    raw = b"".join(file.read_bytes() for file in files if file.exists())
    assert b"alice@example.com" in raw  # we are reading the right file
    assert token.encode() not in raw and token[4:].encode() not in raw


async def test_a_title_counts_its_length_after_trimming(client, factory) -> None:
    """SPEC §1: 1–200 characters after trimming (issue 20 item 13: 200 × "t" with blanks around
    was a 422)."""
    await factory.user("alice")
    headers = bearer(await api_token(client, "alice@example.com"))
    padded = "   " + "t" * 200 + "   "
    created = await client.post("/api/notes", json={"title": padded, "content": "c"}, headers=headers)
    assert created.status_code == 201 and (await created.get_json())["title"] == "t" * 200
    too_long = await client.post("/api/notes", json={"title": "t" * 201, "content": "c"}, headers=headers)
    assert too_long.status_code == 422
    assert "title" in str((await too_long.get_json())["details"])


async def test_a_search_longer_than_500_characters_is_cut_as_the_browser_does(client, factory) -> None:
    """SPEC §9: one behaviour, never an error — `/notes?q=` reads the first 500 characters, and so
    does the API (it was a 422)."""
    await factory.user("alice")
    headers = bearer(await api_token(client, "alice@example.com"))
    await client.post("/api/notes", json={"title": "otter", "content": "c"}, headers=headers)
    query = "otter " + "x" * 600
    response = await client.get("/api/notes", query_string={"q": query}, headers=headers)
    assert response.status_code == 200
    assert [note["title"] for note in await response.get_json()] == []  # the cut query holds "xxx…"
    found = await client.get("/api/notes", query_string={"q": "otter" + " " * 600 + "zebra"}, headers=headers)
    assert found.status_code == 200 and [note["title"] for note in await found.get_json()] == ["otter"]
