"""SPEC §10 against the real server: the feed, the stream, Mirror, and Idempotency-Key.

The server is being given `/api/changes` and `/api/events` as this is written; until it has them,
each test here skips (a 404 on the route), and runs as soon as it answers. They expect what the
fake of fakes.py does, so the fake and the server are held to the same contract.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from notes_client import (
    Change,
    Deleted,
    Event,
    InvalidCursor,
    Mirror,
    Note,
    NotesClient,
    NotFound,
)


@pytest.fixture
async def feed(client: NotesClient) -> NotesClient:
    """The client, once the server is known to have the change feed."""
    try:
        await client.changes(limit=1)
    except NotFound:
        pytest.skip("the server has no /api/changes yet (SPEC §10)")
    return client


@pytest.fixture
async def stream(feed: NotesClient) -> NotesClient:
    """The client, once the server is known to have the live stream too."""
    try:
        async with feed.http.stream("/api/events", headers={"Accept": "text/event-stream"}):
            pass
    except NotFound:
        pytest.skip("the server has no /api/events yet (SPEC §10)")
    return feed


async def everything(client: NotesClient) -> dict[int, Note]:
    """Every note of the account, trashed ones too, by id (the export holds them all)."""
    return {note.id: note for note in (await client.export()).notes}


def by_id(notes: list[Note]) -> dict[int, Note]:
    return {note.id: note for note in notes}


async def test_full_sync_then_changes_after_the_cursor(feed: NotesClient) -> None:
    notes = [await feed.create_note(title=f"n{n}", content="x") for n in range(7)]
    await feed.delete_note(notes[0])
    pages = [page async for page in feed.change_pages(limit=3)]
    assert pages[-1].more is False
    items = [item for page in pages for item in page.changes]
    assert all(isinstance(item, Change) for item in items)  # a full sync: no deletion markers
    assert {item.id: item.note for item in items if isinstance(item, Change)} == await everything(feed)

    cursor = pages[-1].cursor
    nothing = await feed.changes(cursor)
    assert (nothing.changes, nothing.cursor, nothing.more) == ((), cursor, False)
    edited = await feed.update_note(notes[1].id, title="edited")
    await feed.purge_note(notes[0])
    page = await feed.changes(cursor)
    assert page.changes == (Change(edited), Deleted(notes[0].id))
    with pytest.raises(InvalidCursor):
        await feed.changes(cursor[::-1])


async def test_idempotency_key_returns_the_first_note(feed: NotesClient) -> None:
    key = str(uuid.uuid4())
    first = await feed.create_note(title="Once", content="only", idempotency_key=key)
    again = await feed.create_note(title="Once", content="only", idempotency_key=key)
    assert again.id == first.id
    assert [note.id for note in await feed.list_notes().all()] == [first.id]


async def take(events: AsyncIterator[Event], count: int) -> list[Event]:
    taken: list[Event] = []
    async with asyncio.timeout(10):
        async for event in events:
            taken.append(event)
            if len(taken) == count:
                break
    return taken


async def test_events_after_a_cursor_then_live(stream: NotesClient) -> None:
    before = await stream.create_note(title="before", content="x")
    cursor = (await stream.changes()).cursor
    missed = await stream.update_note(before.id, title="while away")
    events = stream.events(cursor)
    [first] = await take(events, 1)
    assert first.change == Change(missed)
    created = await stream.create_note(title="live", content="y")
    [live] = await take(events, 1)
    assert live.change == Change(created)
    after = await stream.changes(live.cursor)
    assert after.changes == ()  # the event's id is the feed's cursor just after it


async def test_mirror_catches_up_and_follows(stream: NotesClient, tmp_path: Path) -> None:
    for n in range(5):
        await stream.create_note(title=f"n{n}", content="x")
    synced = asyncio.Event()
    async with Mirror(stream, tmp_path / "copy.db", page_size=2) as mirror:
        following = asyncio.create_task(mirror.run(synced=synced))
        await synced.wait()
        assert by_id(await mirror.notes(trashed=None)) == await everything(stream)
        note = await stream.create_note(title="from elsewhere", content="y")
        async with asyncio.timeout(10):
            while await mirror.get(note.id) is None:  # noqa: ASYNC110 (the file is polled)
                await asyncio.sleep(0.05)
        assert by_id(await mirror.notes(trashed=None)) == await everything(stream)
        following.cancel()
        with pytest.raises(asyncio.CancelledError):
            await following
