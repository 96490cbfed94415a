"""The export (SPEC §7): every note of the account, in the API's shape, streamed in constant memory."""

from __future__ import annotations

import json
import tracemalloc

from sqlalchemy import insert

from notes_service.data import utcnow
from notes_service.data.models import Note
from notes_service.http.export import BATCH, export_body
from notes_service.http.schemas import ExportedNoteOut
from notes_service.services.users import get_user
from tests.helpers import api_token, bearer, login


async def add_notes(app, author_id: int, count: int) -> None:
    now = utcnow()
    rows = [
        {
            "title": f"note {n}",
            "content": f"content {n}",
            "author_id": author_id,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]
    async with app.extensions["database"].engine.begin() as connection:
        await connection.execute(insert(Note), rows)


async def test_settings_export_is_a_download_of_every_own_note(app, client, factory) -> None:
    alice = await factory.user("alice")
    bob = await factory.user("bob")
    await add_notes(app, alice.id, BATCH * 2 + 1)  # three batches
    await add_notes(app, bob.id, 3)
    await login(client, "alice@example.com")
    response = await client.get("/settings/export")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="notes-export.json"'
    assert response.headers["Cache-Control"] == "no-store"
    body = json.loads(await response.get_data())
    assert body["user"]["email"] == "alice@example.com" and body["user"]["email_verified"] is False
    assert [note["title"] for note in body["notes"]] == [f"note {n}" for n in range(BATCH * 2 + 1)]
    assert set(body["notes"][0]) == set(ExportedNoteOut.model_fields)  # the note of §3, and deleted_at
    assert (await app.test_client().get("/settings/export")).status_code == 302  # signed in only


async def test_api_export(app, client, factory) -> None:
    alice = await factory.user("alice")
    await add_notes(app, alice.id, 2)
    token = await api_token(client, "alice@example.com")
    response = await client.get("/api/export", headers=bearer(token))
    assert response.status_code == 200  # its shape is checked against ExportOut by the fixture
    assert len((await response.get_json())["notes"]) == 2
    empty = await factory.user("bob")
    response = await client.get("/api/export", headers=bearer(await api_token(client, empty.email)))
    assert (await response.get_json())["notes"] == []


async def test_exporting_100000_notes_takes_constant_memory(app, factory, store) -> None:
    alice = await factory.user("alice")
    await add_notes(app, alice.id, 100_000)
    user = await get_user(store, user_id=alice.id)
    tracemalloc.start()
    try:
        size = 0
        async for chunk in export_body(app.extensions["database"], user):
            size += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 5_000_000  # the whole export went through
    print(f"exported {size} bytes, peak traced memory {peak} bytes")
    assert peak < 2_000_000, f"peak {peak} bytes while exporting {size} bytes"


async def test_the_export_holds_the_trash_with_deleted_at(app, client, factory) -> None:
    alice = await factory.user("alice")
    await add_notes(app, alice.id, 2)
    headers = bearer(await api_token(client, "alice@example.com"))
    first = (await (await client.get("/api/notes", headers=headers)).get_json())[-1]
    assert (await client.delete(f"/api/notes/{first['id']}", headers=headers)).status_code == 204
    notes = (await (await client.get("/api/export", headers=headers)).get_json())["notes"]
    assert [note["deleted_at"] is not None for note in notes] == [True, False]
