"""Notes and the trash against the real server: typed notes, ETags from the headers, pages."""

from __future__ import annotations

import asyncio

import pytest

from notes_client import APIError, Note, NotesClient, NotFound, Page, ValidationFailed


async def test_create_get_update_replace_delete(client: NotesClient) -> None:
    created = await client.create_note(title="Groceries", content="eggs", is_pinned=True)
    assert isinstance(created, Note) and created.version == 1 and created.is_pinned
    assert created.etag is not None  # the header of the 201, kept as sent
    read = await client.get_note(created.id)
    assert read == created and read.etag == created.etag
    patched = await client.update_note(read, content="eggs, milk")
    assert (patched.title, patched.content, patched.version) == ("Groceries", "eggs, milk", 2)
    assert patched.etag not in (None, read.etag)
    replaced = await client.replace_note(patched, title="Shopping", content="bread")
    assert (replaced.title, replaced.content, replaced.is_pinned, replaced.version) == (
        "Shopping",
        "bread",
        False,
        3,
    )
    await client.delete_note(replaced)
    with pytest.raises(NotFound, match="Not found"):
        await client.get_note(created.id)


async def test_refresh_is_a_conditional_get(client: NotesClient) -> None:
    note = await client.create_note(title="Same", content="as before")
    assert await client.refresh_note(note) is note  # 304: nothing new
    changed = await client.update_note(note.id, title="Changed")
    refreshed = await client.refresh_note(note)
    assert refreshed == changed and refreshed.etag == changed.etag


async def test_updates_by_id_are_unconditional(client: NotesClient) -> None:
    note = await client.create_note(title="One", content="text")
    await client.update_note(note, title="Two")
    assert (await client.update_note(note.id, title="Three")).version == 3  # no If-Match: applies


async def test_a_listed_note_is_updated_at_the_version_listed(client: NotesClient) -> None:
    await client.create_note(title="Listed", content="text")
    [listed] = await client.list_notes().all()
    assert listed.etag is None  # a list sends no ETags
    saved = await client.update_note(listed, content="changed from the list")
    assert saved.version == 2


async def test_list_order_and_search(client: NotesClient) -> None:
    first = await client.create_note(title="Quokka facts", content="small and happy")
    second = await client.create_note(title="Shopping", content="a quokka plush")
    pinned = await client.create_note(title="Pinned", content="on top", is_pinned=True)
    listed = await client.list_notes().all()
    assert [note.id for note in listed] == [pinned.id, second.id, first.id]
    found = await client.list_notes(q="quokka").all()
    assert [note.id for note in found] == [first.id, second.id]  # the title match first
    assert await client.list_notes(q="nothing matches this").all() == []


async def test_pages_of_120_notes_by_50(client: NotesClient) -> None:
    created = await asyncio.gather(*(client.create_note(title=f"n{n}", content="x") for n in range(120)))
    pages = [page async for page in client.list_notes(limit=50)]
    assert all(isinstance(page, Page) for page in pages)
    assert [len(page) for page in pages] == [50, 50, 20]
    assert pages[-1].next_url is None and pages[0].next_url is not None
    ids = [note.id for page in pages for note in page]
    assert sorted(ids) == sorted(note.id for note in created) and len(set(ids)) == 120
    assert ids == sorted(ids, reverse=True)  # newest first (none pinned)
    assert [note.id async for note in client.list_notes(limit=50).items()] == ids


async def test_trash_list_restore_purge(client: NotesClient) -> None:
    notes = [await client.create_note(title=f"t{n}", content="x") for n in range(3)]
    for note in notes:
        await client.delete_note(note)
    trash = [page async for page in client.list_trash(limit=2)]
    assert [len(page) for page in trash] == [2, 1]
    listed = [note for page in trash for note in page]
    assert [note.id for note in listed] == [note.id for note in reversed(notes)]  # last deleted first
    assert all(note.deleted_at is not None for note in listed)
    restored = await client.restore_note(notes[0].id)
    assert restored.id == notes[0].id and restored.deleted_at is None and restored.etag is not None
    await client.purge_note(notes[1])
    with pytest.raises(NotFound):  # not in the trash any more: gone for good
        await client.restore_note(notes[1].id)
    assert [note.id for note in await client.list_trash().all()] == [notes[2].id]


async def test_tags_set_changed_filtered_and_refused(client: NotesClient) -> None:
    note = await client.create_note(title="Tagged", content="x", tags=["Work", "home", "work"])
    assert note.tags == ("work", "home")  # lowercase, merged, in the order given
    untagged = await client.create_note(title="Untagged", content="x")
    assert untagged.tags == ()
    assert [found.id for found in await client.list_notes(tag="WORK").all()] == [note.id]
    kept = await client.update_note(note, title="Renamed")  # tags not sent: they stay
    assert kept.tags == ("work", "home")
    changed = await client.update_note(kept, tags=["trip"])
    assert changed.tags == ("trip",) and changed.version == kept.version + 1
    assert await client.list_notes(tag="work").all() == []
    assert [found.id for found in await client.list_notes(q="tag:trip").all()] == [note.id]
    with pytest.raises(ValidationFailed) as refused:
        await client.create_note(title="Bad", content="x", tags=["two words"])
    assert "letters, digits" in refused.value.details["tags"]


async def test_unknown_fields_are_kept_not_refused(client: NotesClient) -> None:
    note = await client.create_note(title="Raw", content="x")
    assert note.raw["id"] == note.id and set(note.raw) >= {"title", "content", "version"}
    with pytest.raises(APIError):  # the server's own refusal still comes through typed
        await client.list_notes(limit=500).all()
