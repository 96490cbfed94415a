"""The trash (SPEC §9): delete moves notes there; restore, purge, empty; API; the purge job."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from notes_service.data import utcnow
from notes_service.data.models import Note
from notes_service.http.current import session_lifetime
from notes_service.services import notes as notes_service
from notes_service.serving.housekeeping import delete_expired
from tests.helpers import api_token, bearer, login, post_form


@pytest.fixture
async def alice(client, factory):  # type: ignore[no-untyped-def]
    user = await factory.user("alice")
    await login(client, "alice@example.com")
    return user


@pytest.fixture
async def alice_headers(client, alice) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return bearer(await api_token(client, "alice@example.com"))


async def add(store, author_id, title, *, trashed=False):  # type: ignore[no-untyped-def]
    async with store.write():
        note = await notes_service.create_note(
            store, author_id=author_id, title=title, content=f"about {title}"
        )
        if trashed:
            await notes_service.trash_note(store, note_id=note.id, author_id=author_id)
    return note


async def row(store, note_id):  # type: ignore[no-untyped-def]
    return await store.row(select(Note).where(Note.id == note_id))


async def test_trashed_notes_leave_lists_counts_and_urls(client, alice, alice_headers, store) -> None:
    kept = await add(store, alice.id, "kept")
    gone = await add(store, alice.id, "gonewords", trashed=True)
    page = await (await client.get("/notes")).get_data(as_text=True)
    assert "kept" in page and "gonewords" not in page
    dashboard = await (await client.get("/dashboard")).get_data(as_text=True)
    assert "gonewords" not in dashboard
    assert (await client.get(f"/notes/{gone.id}")).status_code == 404
    assert (await client.get(f"/notes/{gone.id}/edit")).status_code == 404
    api = await (await client.get("/api/notes", headers=alice_headers)).get_json()
    assert [note["id"] for note in api] == [kept.id]
    assert (await client.get(f"/api/notes/{gone.id}", headers=alice_headers)).status_code == 404
    assert (
        await client.patch(f"/api/notes/{gone.id}", json={"title": "x"}, headers=alice_headers)
    ).status_code == 404
    assert (await client.delete(f"/api/notes/{gone.id}", headers=alice_headers)).status_code == 404


async def test_trash_page_restore_purge_and_empty(client, alice, store) -> None:
    first = await add(store, alice.id, "first", trashed=True)
    second = await add(store, alice.id, "second", trashed=True)
    third = await add(store, alice.id, "third", trashed=True)
    page = await (await client.get("/trash")).get_data(as_text=True)
    assert page.index("third") < page.index("second") < page.index("first")  # newest deletion first
    assert "Restore" in page and "Delete forever" in page

    restored = await post_form(client, f"/trash/{first.id}/restore", {}, form_page="/trash")
    assert restored.status_code == 302 and restored.headers["Location"] == f"/notes/{first.id}"
    shown = await (await client.get(f"/notes/{first.id}")).get_data(as_text=True)
    assert "Note restored." in shown

    purged = await post_form(client, f"/trash/{second.id}/purge", {}, form_page="/trash")
    assert purged.status_code == 302 and purged.headers["Location"] == "/trash"
    assert "Note deleted forever." in await (await client.get("/trash")).get_data(as_text=True)
    assert await row(store, second.id) is None

    emptied = await post_form(client, "/trash/empty", {}, form_page="/trash")
    assert emptied.status_code == 302 and await row(store, third.id) is None
    assert (await row(store, first.id)).deleted_at is None


async def test_trash_routes_refuse_others_and_live_notes(client, alice, factory, store) -> None:
    bob = await factory.user("bob")
    bobs = await add(store, bob.id, "bobs", trashed=True)
    live = await add(store, alice.id, "live")
    for action in ("restore", "purge"):
        assert (
            await post_form(client, f"/trash/{bobs.id}/{action}", {}, form_page="/trash")
        ).status_code == 403
        assert (
            await post_form(client, f"/trash/{live.id}/{action}", {}, form_page="/trash")
        ).status_code == 404
        assert (await post_form(client, f"/trash/999/{action}", {}, form_page="/trash")).status_code == 404
    await post_form(client, "/trash/empty", {}, form_page="/trash")
    assert (await row(store, bobs.id)).deleted_at is not None and (
        await row(store, live.id)
    ).deleted_at is None


async def test_api_trash_list_restore_and_delete(client, alice, alice_headers, factory, store) -> None:
    notes = [await add(store, alice.id, f"n{index}") for index in range(3)]
    for note in notes:
        assert (await client.delete(f"/api/notes/{note.id}", headers=alice_headers)).status_code == 204
    first = await client.get("/api/trash?limit=2", headers=alice_headers)
    page = await first.get_json()
    assert [item["id"] for item in page] == [notes[2].id, notes[1].id]
    assert all(item["deleted_at"] for item in page)
    link = first.headers["Link"]
    next_url = link[link.index("/api/trash") : link.index(">")]
    rest = await (await client.get(next_url, headers=alice_headers)).get_json()
    assert [item["id"] for item in rest] == [notes[0].id] and "Link" not in (
        await client.get(next_url, headers=alice_headers)
    ).headers

    restored = await client.post(f"/api/trash/{notes[0].id}/restore", headers=alice_headers)
    body = await restored.get_json()
    assert restored.status_code == 200 and body["id"] == notes[0].id and "deleted_at" not in body
    assert (await client.get(f"/api/notes/{notes[0].id}", headers=alice_headers)).status_code == 200
    assert (await client.post(f"/api/trash/{notes[0].id}/restore", headers=alice_headers)).status_code == 404

    assert (await client.delete(f"/api/trash/{notes[1].id}", headers=alice_headers)).status_code == 204
    assert await row(store, notes[1].id) is None
    assert (await client.delete(f"/api/trash/{notes[0].id}", headers=alice_headers)).status_code == 404

    bob = await factory.user("bob")
    bobs = await add(store, bob.id, "bobs", trashed=True)
    assert (await client.post(f"/api/trash/{bobs.id}/restore", headers=alice_headers)).status_code == 403
    assert (await client.delete(f"/api/trash/{bobs.id}", headers=alice_headers)).status_code == 403
    assert (await client.get("/api/trash?cursor=bad.cursor", headers=alice_headers)).status_code == 400


async def test_housekeeping_purges_notes_trashed_longer_than_trash_days(app, alice, store) -> None:
    old = await add(store, alice.id, "old", trashed=True)
    recent = await add(store, alice.id, "recent", trashed=True)
    live = await add(store, alice.id, "live")
    async with store.write():
        await store.execute(
            update(Note).where(Note.id == old.id).values(deleted_at=utcnow() - timedelta(days=31))
        )
        await store.execute(
            update(Note).where(Note.id == recent.id).values(deleted_at=utcnow() - timedelta(days=29))
        )
    lifetime = session_lifetime(app.config["NOTES"])
    # Two workers' rounds at once do no harm.
    await asyncio.gather(
        delete_expired(store.database, lifetime, trash_days=30),
        delete_expired(store.database, lifetime, trash_days=30),
    )
    assert await row(store, old.id) is None
    assert (await row(store, recent.id)) is not None and (await row(store, live.id)) is not None
