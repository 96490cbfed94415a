"""The change feed's numbers and reads (services/changes.py, SPEC §10): each write to a note takes
its author's next number, a note deleted for good leaves a marker, and a reader gets each change
once, oldest first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from notes_service.data import utcnow
from notes_service.data.models import Note, NoteTombstone, User
from notes_service.services import changes, notes, trash
from notes_service.services.changes import ChangesPage, Since
from notes_service.services.errors import CursorExpired, Stale
from notes_service.services.rows import ChangedNoteRow, DeletedNoteRow


async def counter(store, user_id):  # type: ignore[no-untyped-def]
    return await store.scalar(select(User.change_seq).where(User.id == user_id))


async def seq_of(store, note_id):  # type: ignore[no-untyped-def]
    return await store.scalar(select(Note.change_seq).where(Note.id == note_id))


async def read_all(store, user_id, after, limit=100) -> list[ChangesPage]:  # type: ignore[no-untyped-def]
    """Every page from `after` on, until one says no more follow."""
    pages = [await changes.read_changes(store, author_id=user_id, after=after, limit=limit)]
    while pages[-1].more:
        pages.append(await changes.read_changes(store, author_id=user_id, after=pages[-1].next, limit=limit))
    return pages


def kinds(pages: list[ChangesPage]) -> list[tuple[str, int]]:
    return [
        ("deleted" if isinstance(change, DeletedNoteRow) else "note", change.id)
        for page in pages
        for change in page.changes
    ]


async def test_each_write_takes_the_authors_next_number(store, factory) -> None:
    alice, bob = await factory.user("alice"), await factory.user("bob")
    async with store.write():
        bobs = await notes.create_note(store, author_id=bob.id, title="b", content="b")
    seen = []
    async with store.write():
        note = await notes.create_note(store, author_id=alice.id, title="t", content="c")
    seen.append(await seq_of(store, note.id))
    writes = [
        lambda: notes.update_note(store, note_id=note.id, author_id=alice.id, title="t2"),
        lambda: notes.update_note(store, note_id=note.id, author_id=alice.id, is_pinned=True),
        lambda: notes.trash_note(store, note_id=note.id, author_id=alice.id),
        lambda: trash.restore_note(store, note_id=note.id, author_id=alice.id),
    ]
    for write in writes:
        async with store.write():
            await write()
        seen.append(await seq_of(store, note.id))
    assert seen == [1, 2, 3, 4, 5] and await counter(store, alice.id) == 5
    async with store.write():
        await notes.trash_note(store, note_id=note.id, author_id=alice.id)
        await trash.purge_note(store, note_id=note.id, author_id=alice.id)
    marker = await store.row(select(NoteTombstone).where(NoteTombstone.note_id == note.id))
    assert (marker.author_id, marker.change_seq) == (alice.id, 7) and await counter(store, alice.id) == 7
    assert await seq_of(store, bobs.id) == 1 and await counter(store, bob.id) == 1  # bob's own count


async def test_a_refused_write_takes_no_number(store, factory) -> None:
    alice = await factory.user("alice")
    async with store.write():
        note = await notes.create_note(store, author_id=alice.id, title="t", content="c")
    with pytest.raises(Stale):
        async with store.write():
            await notes.update_note(store, note_id=note.id, author_id=alice.id, expected=[2], title="x")
    assert await counter(store, alice.id) == 1  # rolled back with the refused write


async def test_every_note_write_names_its_author_to_the_store(store, factory, monkeypatch) -> None:
    """`Store.changed` is how the live stream learns whom to wake: every write to a note calls it."""
    alice = await factory.user("alice")
    named: list[int] = []
    original = type(store).changed
    monkeypatch.setattr(
        type(store), "changed", lambda self, author_id: (named.append(author_id), original(self, author_id))
    )
    async with store.write():
        note = await notes.create_note(store, author_id=alice.id, title="t", content="c")
        await notes.update_note(store, note_id=note.id, author_id=alice.id, content="d")
        await notes.trash_note(store, note_id=note.id, author_id=alice.id)
        await trash.restore_note(store, note_id=note.id, author_id=alice.id)
        await notes.trash_note(store, note_id=note.id, author_id=alice.id)
        await trash.empty_trash(store, author_id=alice.id)
    assert set(named) == {alice.id} and len(named) >= 6


async def test_rendering_notes_again_is_no_change_a_reader_sees(store, factory) -> None:
    """`notes-service render-notes` stores new HTML; the note's place in the feed stays."""
    alice = await factory.user("alice")
    async with store.write():
        note = await notes.create_note(store, author_id=alice.id, title="t", content="*c*")
        await store.execute(update(Note).where(Note.id == note.id).values(html_renderer=None))
    (stale,) = await notes.notes_with_stale_html(store, after=0, limit=10)
    async with store.write():
        assert await notes.refresh_html(store, stale)
    assert (await seq_of(store, note.id), await counter(store, alice.id)) == (1, 1)
    page = await changes.read_changes(store, author_id=alice.id, after=Since(1), limit=10)
    assert page == ChangesPage([], Since(1), False)


async def test_a_note_appears_once_in_its_latest_state(store, factory) -> None:
    alice = await factory.user("alice")
    async with store.write():
        first = await notes.create_note(store, author_id=alice.id, title="one", content="c")
        second = await notes.create_note(store, author_id=alice.id, title="two", content="c")
        await notes.update_note(store, note_id=first.id, author_id=alice.id, title="one again")
    (page,) = await read_all(store, alice.id, None)
    assert [(change.id, change.title, change.version) for change in page.changes] == [
        (second.id, "two", 1),
        (first.id, "one again", 2),
    ]
    assert all(isinstance(change, ChangedNoteRow) for change in page.changes)
    assert page.next == Since(3) and not page.more


async def test_a_full_sync_in_pages_holds_no_marker_of_a_note_deleted_before_it(store, factory) -> None:
    alice = await factory.user("alice")
    async with store.write():
        made = [
            await notes.create_note(store, author_id=alice.id, title=f"n{i}", content="c") for i in range(4)
        ]
        await notes.trash_note(store, note_id=made[1].id, author_id=alice.id)
        await trash.purge_note(store, note_id=made[1].id, author_id=alice.id)  # marker number 6
    first = await changes.read_changes(store, author_id=alice.id, after=None, limit=1)
    assert first.more and first.next == Since(1, markers_after=6)
    async with store.write():  # deleted while the sync is under way: the reader had it, must hear of it
        await notes.trash_note(store, note_id=made[0].id, author_id=alice.id)
        await trash.purge_note(store, note_id=made[0].id, author_id=alice.id)
    pages = [first, *await read_all(store, alice.id, first.next, limit=1)]
    assert kinds(pages) == [
        ("note", made[0].id),
        ("note", made[2].id),
        ("note", made[3].id),
        ("deleted", made[0].id),
    ]
    assert pages[-1].next == Since(8)
    # Without the floor the pages would have sent the marker of the note purged before the sync:
    assert ("deleted", made[1].id) in kinds(await read_all(store, alice.id, Since(1), limit=1))


async def test_old_markers_go_and_only_the_cursors_before_them_expire(store, factory) -> None:
    alice, bob = await factory.user("alice"), await factory.user("bob")
    async with store.write():
        note = await notes.create_note(store, author_id=alice.id, title="t", content="c")
        other = await notes.create_note(store, author_id=alice.id, title="u", content="c")
        await notes.trash_note(store, note_id=note.id, author_id=alice.id)
        await trash.purge_note(store, note_id=note.id, author_id=alice.id)  # marker 4
        await notes.create_note(store, author_id=bob.id, title="b", content="c")
        await store.execute(update(NoteTombstone).values(deleted_at=utcnow() - timedelta(days=91)))
    idle = (await changes.read_changes(store, author_id=alice.id, after=None, limit=10)).next
    async with store.write():
        assert await changes.purge_old_markers(store, days=90) == 1
        assert await changes.purge_old_markers(store, days=90) == 0  # a second worker's round
    assert await store.scalar(select(User.tombstones_purged_seq).where(User.id == alice.id)) == 4
    assert await store.scalar(select(User.tombstones_purged_seq).where(User.id == bob.id)) == 0
    for before in (Since(0), Since(3), Since(2, markers_after=3)):
        with pytest.raises(CursorExpired):
            await changes.read_changes(store, author_id=alice.id, after=before, limit=10)
    assert idle == Since(4)  # the idle account's cursor, taken before the purge, still reads
    assert (await changes.read_changes(store, author_id=alice.id, after=idle, limit=10)).changes == []
    async with store.write():
        await notes.update_note(store, note_id=other.id, author_id=alice.id, title="v")
    page = await changes.read_changes(store, author_id=alice.id, after=idle, limit=10)
    assert [change.id for change in page.changes] == [other.id]


async def test_a_cursor_past_the_authors_count_expires(store, factory) -> None:
    """Only after the database was restored from a backup: the reader holds changes it no longer has."""
    alice = await factory.user("alice")
    with pytest.raises(CursorExpired):
        await changes.read_changes(store, author_id=alice.id, after=Since(5), limit=10)


async def test_the_automatic_purge_numbers_each_authors_notes(store, factory) -> None:
    alice, bob = await factory.user("alice"), await factory.user("bob")
    async with store.write():
        ids = {
            user.id: [
                (await notes.create_note(store, author_id=user.id, title="t", content="c")).id
                for _ in range(3)
            ]
            for user in (alice, bob)
        }
        for user in (alice, bob):
            for note_id in ids[user.id][:2]:
                await notes.trash_note(store, note_id=note_id, author_id=user.id)
        await store.execute(
            update(Note).where(Note.deleted_at.is_not(None)).values(deleted_at=utcnow() - timedelta(days=40))
        )
        assert await trash.purge_expired(store, days=30) == 4
    for user in (alice, bob):
        markers = await store.rows(
            select(NoteTombstone.note_id, NoteTombstone.change_seq)
            .where(NoteTombstone.author_id == user.id)
            .order_by(NoteTombstone.change_seq)
        )
        assert [tuple(marker) for marker in markers] == [(ids[user.id][0], 6), (ids[user.id][1], 7)]
        assert await counter(store, user.id) == 7
        assert kinds(await read_all(store, user.id, Since(5))) == [("deleted", i) for i in ids[user.id][:2]]
        assert kinds(await read_all(store, user.id, None)) == [("note", ids[user.id][2])]


async def test_nothing_of_another_author(store, factory) -> None:
    alice, bob = await factory.user("alice"), await factory.user("bob")
    async with store.write():
        note = await notes.create_note(store, author_id=alice.id, title="t", content="c")
        await notes.trash_note(store, note_id=note.id, author_id=alice.id)
        await trash.empty_trash(store, author_id=alice.id)
    assert await read_all(store, bob.id, None) == [ChangesPage([], Since(0), False)]
    assert await read_all(store, bob.id, Since(0)) == [ChangesPage([], Since(0), False)]
