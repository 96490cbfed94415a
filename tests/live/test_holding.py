"""What an open stream holds while it waits (issue 22: a stream's memory), counted, never measured:
no database connection, nothing of Quart's request, no timer of its own; and all of it is let go
when the stream ends, whichever way."""

from __future__ import annotations

import asyncio
import gc
from contextlib import AsyncExitStack
from typing import Any

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config
from quart import Quart
from quart.typing import TestClientProtocol
from quart.wrappers import Request

from notes_service.data import Database
from notes_service.http.handover import Handover
from notes_service.live import Live
from tests.helpers import api_token, bearer
from tests.live.test_streams import opened
from tests.server import free_port

pytestmark = pytest.mark.usefixtures("app")
STREAMS = 50


@pytest.fixture
def many(settings: dict[str, Any]) -> dict[str, Any]:
    settings.update(events_per_user=STREAMS)
    return settings


def alive(kind: type) -> int:
    """How many objects of `kind` (or a subclass) the garbage collector knows, after a collection."""
    gc.collect()
    return sum(1 for thing in gc.get_objects() if isinstance(thing, kind))


def timers() -> int:
    """The loop's timers still to fire (cancelled ones linger in its queue until their time)."""
    gc.collect()
    return sum(
        1 for thing in gc.get_objects() if isinstance(thing, asyncio.TimerHandle) and not thing.cancelled()
    )


@pytest.mark.usefixtures("many")
async def test_waiting_streams_hold_no_connection_request_or_timer_of_their_own(
    app: Quart, client: TestClientProtocol, factory: Any
) -> None:
    await factory.user("alice")
    alice = bearer(await api_token(client, "alice@example.com"))
    database: Database = app.extensions["database"]
    live: Live = app.extensions["live"]
    timers_before = timers()
    async with AsyncExitStack() as streams:
        for _ in range(STREAMS):
            await streams.enter_async_context(opened(client, headers=alice))
        await asyncio.sleep(0.1)  # every stream past its opening, waiting
        assert live.hub.count == STREAMS
        # No read or write connection is checked out for a waiting stream…
        assert database.engine.pool.checkedout() == 0  # type: ignore[attr-defined]
        if database.reads.pool is not None:
            assert database.reads.pool.in_use == 0
        # …nor is Quart's request kept: it was over once the head was sent (http/handover.py)…
        # (a request or two of the fixtures may still be finishing: one per stream is what is not)
        assert alive(Request) < STREAMS // 10
        # …nor a timer each for the heartbeat: one for them all (live/hub.py's Beats).
        assert timers() - timers_before < STREAMS // 10
    await asyncio.sleep(0.1)
    assert live.hub.count == 0  # the client left: each stream is out of the hub and the counts
    async with opened(client, headers=alice):  # and their places are free again
        pass


async def test_a_stream_cut_off_by_the_hub_is_let_go(
    app: Quart, client: TestClientProtocol, factory: Any
) -> None:
    """`Hub.finish` cancels a stream that cannot end by itself (its client does not read): its body
    stops, without an error, and the stream leaves the hub."""
    await factory.user("alice")
    alice = bearer(await api_token(client, "alice@example.com"))
    live: Live = app.extensions["live"]
    async with opened(client, headers=alice) as stream:
        [held] = list(live.hub)
        handover = held.task
        assert isinstance(handover, Handover) and handover.task is not None and not handover.done()
        live.hub.finish(held)
        await asyncio.wait([handover.task], timeout=1.0)
        assert handover.done() and not handover.task.cancelled()
        assert live.hub.count == 0
        assert stream.buffer == b""  # nothing more was sent: no end of the answer, as Quart's own
    # and leaving the `async with` awaited the answer's task: it ended, not with an error


@pytest.fixture
def quick(settings: dict[str, Any]) -> dict[str, Any]:
    settings.update(events_heartbeat_seconds=0.1)
    return settings


@pytest.mark.usefixtures("quick")
async def test_through_hypercorn_a_stream_has_its_whole_head_and_goes_on(
    app: Quart, client: TestClientProtocol, factory: Any
) -> None:
    """Under hypercorn itself (the test client is no server): the head arrives whole although the
    handover empties the headers hypercorn keeps (http/handover.py), heartbeats follow, and the
    client closing its socket takes the stream out of the hub."""
    await factory.user("alice")
    token = await api_token(client, "alice@example.com")
    live: Live = app.extensions["live"]
    config = Config()
    config.bind = [f"127.0.0.1:{free_port()}"]
    stop = asyncio.Event()
    server = asyncio.create_task(serve(_without_lifespan(app), config, shutdown_trigger=stop.wait))
    try:
        reader, writer = await _connect(config.bind[0])
        writer.write(f"GET /api/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n".encode())
        async with asyncio.timeout(5.0):
            head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
            assert head.startswith("http/1.1 200")
            for header in (
                "content-type: text/event-stream",
                "cache-control: no-store",
                "x-accel-buffering: no",
            ):
                assert header in head, head
            body = b""
            while body.count(b": heartbeat") < 2:
                body += await reader.read(1024)
        [held] = list(live.hub)
        assert isinstance(held.task, Handover) and held.task.task is not None
        writer.close()
        await asyncio.wait([held.task.task], timeout=2.0)
        assert live.hub.count == 0
    finally:
        stop.set()
        await asyncio.wait([server], timeout=5.0)  # hypercorn waits for a stream that never ends
        server.cancel()


def _without_lifespan(app: Quart) -> Any:
    """The app, its lifespan already run by the `app` fixture: hypercorn's is answered and skipped."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})

    return asgi


async def _connect(bind: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = bind.split(":")
    async with asyncio.timeout(5.0):
        while True:
            try:
                return await asyncio.open_connection(host, int(port))
            except OSError:
                await asyncio.sleep(0.02)
