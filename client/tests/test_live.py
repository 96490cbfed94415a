"""`changes()` and `events()` against the SPEC §10 fake (fakes.py): typed pages and events, the
cursor errors, and a dropped stream that resumes with Last-Event-ID after the server's `retry:`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from fakes import TOKEN, FakeFeed
from support import Sleeps

from notes_client import (
    Change,
    CursorExpired,
    Deleted,
    Event,
    InvalidCursor,
    NotesClient,
    Retry,
    Unauthorized,
)


def client_of(feed: FakeFeed, sleeps: Sleeps | None = None) -> NotesClient:
    retry = Retry(sleep=sleeps or Sleeps(), max_wait=5)
    return NotesClient("http://notes.test", TOKEN, transport=feed.client_transport(), retry=retry)


async def take(events: AsyncIterator[Event], count: int) -> list[Event]:
    taken = []
    async with asyncio.timeout(5):
        async for event in events:
            taken.append(event)
            if len(taken) == count:
                break
    return taken


async def test_full_sync_then_only_what_changed() -> None:
    feed = FakeFeed.sample()
    client = client_of(feed)
    pages = [page async for page in client.change_pages(limit=7)]
    assert [page.more for page in pages][-2:] == [True, False] and len(pages) >= 3
    assert all(isinstance(item, Change) for item in pages[0].changes)  # no deletion markers from scratch
    items = [item for page in pages for item in page.changes]
    notes = {item.id: item.note for item in items if isinstance(item, Change)}
    assert notes == {note.id: note for note in feed.expected()}
    # later pages go on from a cursor: markers of notes deleted after it may come, never of a note sent
    assert {item.id for item in items if isinstance(item, Deleted)} <= {4, 10, 16, 22} - set(notes)

    cursor = pages[-1].cursor
    nothing = await client.changes(cursor)
    assert (nothing.changes, nothing.cursor, nothing.more) == ((), cursor, False)

    feed.edit(1, title="renamed")
    feed.purge(3)
    page = await client.changes(cursor, limit=10)
    assert [type(item) for item in page.changes] == [Change, Deleted]
    first, second = page.changes
    assert isinstance(first, Change) and first.note.title == "renamed" and first.note.version == 3
    assert second == Deleted(3)
    assert [str(request.url.params.get("limit")) for request in feed.requests][-1] == "10"


async def test_cursor_errors() -> None:
    feed = FakeFeed.sample()
    client = client_of(feed)
    with pytest.raises(InvalidCursor, match="Invalid cursor"):
        await client.changes("tampered")
    old = (await client.changes(limit=1)).cursor
    feed.forget_markers()
    with pytest.raises(CursorExpired, match="Cursor expired: sync from the start") as expired:
        await client.changes(old)
    assert expired.value.status == 410


async def test_events_are_typed_and_resume_after_a_drop() -> None:
    feed = FakeFeed()
    feed.create("before", "x")
    since = (await client_of(feed).changes()).cursor
    feed.retry_ms = 1500
    feed.drop_after = 2  # each connection drops after two events
    for n in range(5):
        feed.create(f"live {n}", "x")
    feed.purge(1)
    sleeps = Sleeps()
    events = await take(client_of(feed, sleeps).events(since), 6)
    assert [event.cursor for event in events] == [
        feed.cursor(n) for n in range(2, 8)
    ]  # none skipped, none twice
    assert [event.change.id for event in events] == [2, 3, 4, 5, 6, 1]
    assert isinstance(events[0].change, Change) and events[0].change.note.title == "live 0"
    assert events[-1].change == Deleted(1)
    assert feed.streams == [since, feed.cursor(3), feed.cursor(5)]  # each reconnection says where it was
    assert sleeps.pauses == [1.5, 1.5]  # the server's retry: hint, before each reconnection


async def test_a_stream_the_server_ends_or_refuses_is_resumed() -> None:
    feed = FakeFeed()
    feed.create("one", "x")
    sleeps = Sleeps()
    events = client_of(feed, sleeps).events(feed.cursor(0))
    [first] = await take(events, 1)
    feed.end_streams()  # a clean end, with `retry: 250` (the server's SIGTERM)
    feed.busy = 1  # then one 429: too many streams
    feed.create("two", "y")
    [second] = await take(events, 1)
    assert [first.change.id, second.change.id] == [1, 2]
    assert feed.streams == [feed.cursor(0), feed.cursor(1), feed.cursor(1)]
    assert sleeps.pauses == [0.25, 5.0]  # the server's retry: hint, then its Retry-After


async def test_events_from_now_then_live() -> None:
    feed = FakeFeed()
    feed.create("old", "x")
    client = client_of(feed)

    async def write_once_connected() -> None:
        await feed.connected.wait()  # the stream starts at "now": write after it began
        feed.create("new", "y")

    writer = asyncio.create_task(write_once_connected())
    [event] = await take(client.events(), 1)
    await writer
    assert feed.streams == [None]  # no cursor: the stream starts at "now"
    assert (
        isinstance(event.change, Change)
        and event.change.note.title == "new"
        and event.cursor == feed.cursor(2)
    )


async def test_a_revoked_token_ends_the_stream() -> None:
    feed = FakeFeed()
    feed.create("one", "x")
    client = client_of(feed)
    client.token = "nts_revoked"
    with pytest.raises(Unauthorized):
        await take(client.events(feed.cursor(0)), 1)


async def test_an_expired_cursor_ends_the_stream() -> None:
    feed = FakeFeed.sample()
    old = feed.cursor(1)
    feed.forget_markers()
    with pytest.raises(CursorExpired):
        await take(client_of(feed).events(old), 1)
