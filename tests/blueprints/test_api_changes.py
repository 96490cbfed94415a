"""GET /api/changes (SPEC §10): a full sync, then only what changed, each note once in its latest
state; deletion markers; cursors that are tampered with, another user's or expired."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from notes_service.data import utcnow
from notes_service.data.models import Note, NoteTombstone
from notes_service.http.current import session_lifetime
from notes_service.serving.housekeeping import delete_expired
from tests.helpers import api_token, bearer, login, post_form


@pytest.fixture
async def alice(client, factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    await factory.user("alice")
    return bearer(await api_token(client, "alice@example.com"))


@pytest.fixture
async def bob(client, factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    await factory.user("bob")
    return bearer(await api_token(client, "bob@example.com"))


async def feed(client, headers, since: str | None = None, **query: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    if since is not None:
        query["since"] = since
    response = await client.get("/api/changes", query_string=query, headers=headers)
    assert response.status_code == 200, await response.get_data(as_text=True)
    return await response.get_json()  # type: ignore[no-any-return]


async def create(client, headers, title: str = "t", **fields: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/notes", json={"title": title, "content": "c", **fields}, headers=headers
    )
    assert response.status_code == 201
    return await response.get_json()  # type: ignore[no-any-return]


def summary(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        ("deleted", change["id"])
        if change.get("deleted")
        else ("note", change["note"]["id"], change["note"]["version"])
        for change in body["changes"]
    ]


async def test_a_full_sync_then_only_what_changed(client, alice) -> None:
    first, second = await create(client, alice, "one"), await create(client, alice, "two")
    synced = await feed(client, alice)
    assert [change["note"] for change in synced["changes"]] == [
        {**first, "deleted_at": None},
        {**second, "deleted_at": None},
    ]
    assert synced["more"] is False
    third = await create(client, alice, "three")
    await client.patch(f"/api/notes/{first['id']}", json={"title": "one!"}, headers=alice)
    later = await feed(client, alice, synced["cursor"])
    assert summary(later) == [("note", third["id"], 1), ("note", first["id"], 2)]
    assert later["changes"][1]["note"]["title"] == "one!"


async def test_every_kind_of_write_appears_once_in_its_latest_state(client, alice, app, store) -> None:
    note = await create(client, alice)
    cursor = (await feed(client, alice))["cursor"]
    path = f"/api/notes/{note['id']}"
    writes = [
        ("PATCH title", lambda: client.patch(path, json={"title": "new"}, headers=alice)),
        ("PATCH pin", lambda: client.patch(path, json={"is_pinned": True}, headers=alice)),
        ("PUT", lambda: client.put(path, json={"title": "put", "content": "all"}, headers=alice)),
        ("DELETE (trash)", lambda: client.delete(path, headers=alice)),
        ("restore", lambda: client.post(f"/api/trash/{note['id']}/restore", headers=alice)),
    ]
    for version, (name, write) in enumerate(writes, start=2):
        assert (await write()).status_code in {200, 204}, name
        body = await feed(client, alice, cursor)
        assert summary(body) == [("note", note["id"], version)], name
        cursor = body["cursor"]
    (change,) = (await feed(client, alice))["changes"]  # several writes, one change: the latest
    assert (change["note"]["title"], change["note"]["is_pinned"], change["note"]["deleted_at"]) == (
        "put",
        False,
        None,
    )
    await client.delete(path, headers=alice)
    trashed = await feed(client, alice, cursor)
    assert trashed["changes"][0]["note"]["deleted_at"] is not None  # in the trash: with deleted_at


async def test_browser_writes_are_in_the_feed_too(client, alice) -> None:
    cursor = (await feed(client, alice))["cursor"]
    await login(client, "alice@example.com")
    response = await post_form(client, "/notes/new", {"title": "from a page", "content": "c"})
    assert response.status_code == 302
    (change,) = (await feed(client, alice, cursor))["changes"]
    assert change["note"]["title"] == "from a page"


async def test_deleted_for_good_is_a_marker_and_a_full_sync_holds_none(client, alice, app, store) -> None:
    notes = [await create(client, alice, f"n{i}") for i in range(5)]
    cursor = (await feed(client, alice))["cursor"]
    for note in notes[:4]:
        await client.delete(f"/api/notes/{note['id']}", headers=alice)
    assert (
        await client.delete(f"/api/trash/{notes[0]['id']}", headers=alice)
    ).status_code == 204  # purge one
    await login(client, "alice@example.com")
    assert (
        await post_form(client, "/trash/empty", {}, form_page="/trash")
    ).status_code == 302  # empty the trash
    body = await feed(client, alice, cursor)
    assert summary(body) == [
        ("deleted", notes[0]["id"]),
        ("deleted", notes[1]["id"]),
        ("deleted", notes[2]["id"]),
        ("deleted", notes[3]["id"]),
    ]
    await client.delete(f"/api/notes/{notes[4]['id']}", headers=alice)
    async with store.write():  # trashed 31 days ago: the automatic purge deletes it
        await store.execute(update(Note).values(deleted_at=utcnow() - timedelta(days=31)))
    await delete_expired(store.database, session_lifetime(app.config["NOTES"]), trash_days=30)
    # Trashed, then deleted for good: one change, the latest, the marker.
    assert summary(await feed(client, alice, body["cursor"])) == [("deleted", notes[4]["id"])]
    assert (await feed(client, alice))["changes"] == []  # a full sync: no markers


def _forged(cursor: str, at: int) -> str:
    """The cursor with one byte of what it names changed (its signature kept)."""
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[at] ^= 1
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


async def test_a_tampered_or_anothers_cursor_is_refused(client, alice, bob) -> None:
    await create(client, alice)
    cursor = (await feed(client, alice))["cursor"]  # names user 1, change 1: b"1.1" + its HMAC
    assert base64.urlsafe_b64decode(cursor + "==")[:3] == b"1.1"
    earlier, other_user = _forged(cursor, 2), _forged(cursor, 0)  # b"1.0", b"0.1"
    bad = [(cursor, bob), (earlier, alice), (other_user, alice), ("", alice), ("x" * 300, alice)]
    for since, headers in [*bad, ("a.b", alice), ("é", alice), (cursor[:-2], alice)]:
        response = await client.get("/api/changes", query_string={"since": since}, headers=headers)
        assert response.status_code == 400, since
        assert (await response.get_json())["error"] == "Invalid cursor"


async def test_an_expired_cursor_is_gone_but_an_idle_accounts_is_not(client, alice, bob, app, store) -> None:
    note = await create(client, alice)
    old = (await feed(client, alice))["cursor"]
    await client.delete(f"/api/notes/{note['id']}", headers=alice)
    await client.delete(f"/api/trash/{note['id']}", headers=alice)
    idle = (await feed(client, alice))["cursor"]  # all seen: the idle account's cursor
    bobs = await create(client, bob)
    bob_cursor = (await feed(client, bob))["cursor"]
    async with store.write():
        await store.execute(update(NoteTombstone).values(deleted_at=utcnow() - timedelta(days=91)))
    await delete_expired(store.database, session_lifetime(app.config["NOTES"]))
    response = await client.get("/api/changes", query_string={"since": old}, headers=alice)
    assert response.status_code == 410
    assert await response.get_json() == {"error": "Cursor expired: sync from the start"}
    assert (await feed(client, alice, idle)) == {"changes": [], "cursor": idle, "more": False}
    await client.patch(f"/api/notes/{bobs['id']}", json={"title": "b"}, headers=bob)
    assert summary(await feed(client, bob, bob_cursor)) == [("note", bobs["id"], 2)]


async def test_nothing_new_gives_the_same_cursor(client, alice, bob) -> None:
    empty = await feed(client, alice)
    assert empty["changes"] == [] and empty["more"] is False
    assert await feed(client, alice, empty["cursor"]) == empty
    await create(client, bob)  # another user's writes are not news here
    assert await feed(client, alice, empty["cursor"]) == empty
    await create(client, alice)
    cursor = (await feed(client, alice, empty["cursor"]))["cursor"]
    assert cursor != empty["cursor"]
    assert await feed(client, alice, cursor) == {"changes": [], "cursor": cursor, "more": False}


async def test_limit_and_more(client, alice) -> None:
    made = [await create(client, alice, f"n{i}") for i in range(5)]
    pages, cursor = [], None
    while True:
        body = await feed(client, alice, cursor, limit=2)
        pages.append(summary(body))
        cursor = body["cursor"]
        if not body["more"]:
            break
    assert pages == [
        [("note", made[0]["id"], 1), ("note", made[1]["id"], 1)],
        [("note", made[2]["id"], 1), ("note", made[3]["id"], 1)],
        [("note", made[4]["id"], 1)],
    ]
    for limit in ("0", "501", "x", "-1"):
        response = await client.get("/api/changes", query_string={"limit": limit}, headers=alice)
        assert response.status_code == 422, limit
        assert "limit" in (await response.get_json())["details"]
    assert len((await feed(client, alice, limit=500))["changes"]) == 5
    assert (await client.get("/api/changes?limit=1&limit=2", headers=alice)).status_code == 422
    assert (await client.get("/api/changes?cursor=x", headers=alice)).status_code == 422  # it is `since`


async def test_another_user_sees_nothing_of_mine(client, alice, bob) -> None:
    note = await create(client, alice)
    await client.delete(f"/api/notes/{note['id']}", headers=alice)
    await client.delete(f"/api/trash/{note['id']}", headers=alice)
    await create(client, alice)
    assert (await feed(client, bob))["changes"] == []
    assert (await feed(client, bob, (await feed(client, bob))["cursor"]))["changes"] == []


async def test_the_feed_needs_a_token(client) -> None:
    response = await client.get("/api/changes")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_a_poll_with_nothing_new_reads_only_the_token(client, alice, monkeypatch) -> None:
    """The token check reads the user's counters (services/changes_poll.py): when they equal the
    cursor's place the feed itself is not read; otherwise it is, and nothing is skipped."""
    from notes_service.data import Store
    from notes_service.services import changes

    reads: list[object] = []
    rows = Store.rows

    async def counted(self, statement, /, **params):  # type: ignore[no-untyped-def]
        if statement is changes.CHANGES:
            reads.append(statement)
        return await rows(self, statement, **params)

    monkeypatch.setattr(Store, "rows", counted)
    cursor = (await feed(client, alice))["cursor"]
    assert len(reads) == 1  # a full sync reads
    assert await feed(client, alice, cursor) == {"changes": [], "cursor": cursor, "more": False}
    assert len(reads) == 1  # nothing new: the counters said so
    note = await create(client, alice)
    assert summary(await feed(client, alice, cursor)) == [("note", note["id"], 1)]
    assert len(reads) == 2
