"""Tags in the services (SPEC §11): the counts beside the list (live notes, one owner), and the
`note_tags` index kept in step with every write, deletion for good included."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from notes_service.data.models import NoteTag
from notes_service.services import notes, tags, trash
from notes_service.services.tags import TagCount


@pytest.fixture
async def alice(factory):  # type: ignore[no-untyped-def]
    return await factory.user("alice")


async def add(store, author_id, title, tag_list):  # type: ignore[no-untyped-def]
    async with store.write():
        return await notes.create_note(store, author_id=author_id, title=title, content="c", tags=tag_list)


async def test_counts_are_of_the_owners_live_notes_most_used_first(app, store, alice, factory) -> None:
    bob = await factory.user("bob")
    await add(store, alice.id, "a", ["work", "home"])
    await add(store, alice.id, "b", ["Work"])
    gone = await add(store, alice.id, "c", ["home", "trip"])
    await add(store, bob.id, "d", ["home", "trip", "bobs"])
    async with store.write():
        await notes.trash_note(store, note_id=gone.id, author_id=alice.id)
    assert await tags.count_tags(store, author_id=alice.id) == [TagCount("work", 2), TagCount("home", 1)]
    async with store.write():
        await trash.restore_note(store, note_id=gone.id, author_id=alice.id)
    assert await tags.count_tags(store, author_id=alice.id) == [
        TagCount("home", 2),
        TagCount("work", 2),
        TagCount("trip", 1),
    ]


async def test_the_index_follows_edits_and_deletion_for_good(app, store, alice) -> None:
    note = await add(store, alice.id, "a", ["one", "two"])
    async with store.write():
        await notes.update_note(store, note_id=note.id, author_id=alice.id, tags=["Two", "three"])
    listed = await tags.list_tagged(store, author_id=alice.id, tags=["three", "two"], limit=10, offset=0)
    assert [row.tags for row in listed] == [["two", "three"]]
    assert await tags.list_tagged(store, author_id=alice.id, tags=["one"], limit=10, offset=0) == []
    async with store.write():
        await notes.trash_note(store, note_id=note.id, author_id=alice.id)
        await trash.purge_note(store, note_id=note.id, author_id=alice.id)
    assert (await store.rows(select(func.count()).select_from(NoteTag)))[0][0] == 0
