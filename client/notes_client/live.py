"""The change feed (`GET /api/changes`) and the live stream (`GET /api/events`), SPEC §10.

The stream is followed the way a browser's EventSource does: after a drop (a lost connection, a
stream the server ended, silence longer than the client's `stream_timeout`) it reconnects with
`Last-Event-ID` set to the last id received, so the server sends what was missed and nothing twice,
after the reconnection time — `retry:` when the server sent one, else 3 seconds — doubled for each
further failure in a row and capped by `Retry.max_wait`. An answer that retrying cannot change
(401: the token was revoked; 410: the cursor expired) ends the iteration with its error.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx

from .errors import ResponseError, RetryLater
from .http import HTTP
from .models import Change, ChangesPage, Deleted, Event, Note
from .sse import ServerSentEvent, SSEDecoder

RECONNECT_MS = 3000  # the format's customary default, until the server says `retry:`
MAX_DOUBLINGS = 5


async def changes(http: HTTP, since: str | None, limit: int | None) -> ChangesPage:
    """One page of the feed after `since` (None: everything, a full sync)."""
    params: dict[str, str | int] = {}
    if since is not None:
        params["since"] = since
    if limit is not None:
        params["limit"] = limit
    response = await http.request("GET", "/api/changes", params=params, replayable=True)
    try:
        return ChangesPage.from_json(response.json())
    except ValueError as error:
        raise ResponseError("/api/changes: not JSON") from error


async def change_pages(http: HTTP, since: str | None, limit: int | None) -> AsyncIterator[ChangesPage]:
    """Pages of the feed until one says there is no more."""
    while True:
        page = await changes(http, since, limit)
        yield page
        if not page.more:
            return
        since = page.cursor


async def events(http: HTTP, since: str | None, *, reconnect: bool = True) -> AsyncIterator[Event]:
    """Each change as an `Event`, reconnecting after drops while `reconnect`."""
    last_id, reconnect_ms, failures = since, RECONNECT_MS, 0
    while True:
        asked: float | None = None
        decoder = SSEDecoder()
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if last_id is not None:
            headers["Last-Event-ID"] = last_id
        try:
            async with http.stream("/api/events", headers=headers) as response:
                failures = 0
                async for chunk in response.aiter_bytes():
                    for sse in decoder.feed(chunk):
                        event = _event(sse, last_id)
                        if event is not None:
                            last_id = event.cursor
                            yield event
        except httpx.TransportError:
            if not reconnect:
                raise
        except RetryLater as busy:  # too many streams: wait as told, then try again
            if not reconnect:
                raise
            asked = busy.retry_after
        else:
            if not reconnect:
                return
        finally:
            # what the server last said counts even when the stream broke after saying it
            if decoder.last_event_id is not None:
                last_id = decoder.last_event_id
            if decoder.retry is not None:
                reconnect_ms = decoder.retry
        if asked is None:
            asked = reconnect_ms / 1000 * 2 ** min(failures, MAX_DOUBLINGS)
        failures += 1
        await http.retry.sleep(http.retry.pause(1, asked))


def _event(sse: ServerSentEvent, last_id: str | None) -> Event | None:
    """`note` and `deleted` events; others (a newer server's) are skipped."""
    if sse.event not in ("note", "deleted"):
        return None
    try:
        data = json.loads(sse.data)
    except ValueError as error:
        raise ResponseError(f"/api/events: {sse.event} event data is not JSON") from error
    cursor = sse.id if sse.id is not None else last_id
    if cursor is None:
        raise ResponseError("/api/events: an event without an id")
    if sse.event == "note":
        return Event(cursor, Change(Note.from_json(data)))
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        raise ResponseError("/api/events: a deleted event without an id")
    return Event(cursor, Deleted(data["id"]))
