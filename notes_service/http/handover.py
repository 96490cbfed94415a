"""A live stream's body, served after Quart is done with its request (issue 22: what a stream costs).

Quart keeps a request alive for as long as its answer's body runs: the `Request` (its headers, its
body's events), the request and app contexts (`g`, the session) and two tasks (one reading the ASGI
messages, one sending the answer). An event stream's answer runs for hours; measured with
bench/stream_memory.py, that was about 9 KiB of each idle stream's 38.

So a stream route answers with `handed_over(...)`: the stream's status and headers, no body of
Quart's, and the real body left here. `Handover`, the middleware right around Quart's own ASGI app,
lets Quart send the head and finish its request (teardown, contexts, tasks: all gone), keeps Quart's
end of the body to itself, then runs the body in the connection's own task, plain ASGI: each chunk
sent as Quart would, and the body stopped when the client leaves. A route that ends up not answering
with its handed-over body (an error after it, the client gone first) gets its `ended` called all the
same.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping
from typing import Any

from .connections import STREAM_PATHS, ASGIApp

HANDOVER = "notes.handover"


class Handover:
    """One request's place for a body to run after Quart; also what cancels it (`Stream.task`)."""

    __slots__ = ("body", "ended", "started", "gone", "task", "cancelled")

    def __init__(self) -> None:
        self.body: AsyncIterator[bytes] | None = None
        self.ended: Callable[[], None] | None = None
        self.started = False  # Quart sent the handed-over answer's head
        self.gone = False  # the client left
        self.task: asyncio.Task[Any] | None = None  # the task running the body, while it runs
        self.cancelled = False  # cancel() was called: the body's end is ours, not the server's

    def take(self, body: AsyncIterator[bytes], ended: Callable[[], None]) -> None:
        """Run `body` after Quart; call `ended` once it is over (or was never run)."""
        self.body, self.ended = body, ended

    def done(self) -> bool:
        return self.task is None or self.task.done()

    def cancel(self) -> None:
        """Stop the body now, even while a send waits for a client that does not read."""
        if self.task is not None and not self.task.done():
            self.cancelled = True
            self.task.cancel()

    def __copy__(self) -> Handover:
        return self

    def __deepcopy__(self, _memo: dict[int, Any]) -> Handover:
        return self


def handover_of(scope: Mapping[str, Any]) -> Handover:
    """The request's `Handover` (the stream routes always have one: `Handover` is installed)."""
    handover = scope.get(HANDOVER)
    if not isinstance(handover, Handover):
        raise RuntimeError("no Handover middleware around the app")
    return handover


class _Nothing:
    """The body Quart sends for a handed-over answer: nothing, but sending it says the head went."""

    def __init__(self, handover: Handover) -> None:
        self.handover = handover

    def __aiter__(self) -> _Nothing:
        self.handover.started = True
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration


def placeholder(handover: Handover) -> _Nothing:
    """The body to give Quart's `Response` for an answer whose real body is handed over."""
    return _Nothing(handover)


class HandoverMiddleware:
    """ASGI middleware right around Quart's app: runs the stream routes' handed-over bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Any, receive: Any, send: Any) -> Coroutine[Any, Any, None]:
        if scope["type"] != "http" or scope["path"] not in STREAM_PATHS:
            return self.app(scope, receive, send)  # no frame of ours for every other request
        return self._stream(scope, receive, send)

    async def _stream(self, scope: Any, receive: Any, send: Any) -> None:
        handover = Handover()

        async def receive_and_watch() -> Any:
            message = await receive()
            if message["type"] == "http.disconnect":
                handover.gone = True
            return message

        async def send_but_the_end(message: Any) -> None:
            if handover.body is not None and message["type"] == "http.response.start":
                await _send_head(send, message)
                return
            if handover.started and message["type"] == "http.response.body" and not message.get("more_body"):
                return  # Quart's end of the (empty) body: the real one follows
            await send(message)

        try:
            await self.app({**scope, HANDOVER: handover}, receive_and_watch, send_but_the_end)
        except BaseException:
            _end(handover)
            raise
        if handover.body is None:
            return
        if not handover.started or handover.gone:
            _end(handover)
            return
        await _run(handover, receive, send)


async def _send_head(send: Any, message: Any) -> None:
    """Send a stream's head; then empty the list of its headers. hypercorn (0.18, HTTPStream.app_send)
    keeps the start message for the whole answer but reads its headers only as it sends them: the
    status and `trailers` are all it looks at again, and its access log, which `serve` leaves off.
    About 1 KiB a stream (ten headers as tuples of bytes). tests/live/test_holding.py holds hypercorn
    to it: the head arrives whole and the stream goes on."""
    head = dict(message)
    await send(head)
    head["headers"] = []


async def _run(handover: Handover, receive: Any, send: Any) -> None:
    """The body, chunk by chunk, until it ends, the client leaves or `cancel()` stops it."""
    assert handover.body is not None
    task = asyncio.current_task()
    assert task is not None
    handover.task = task
    watcher = asyncio.ensure_future(_gone(receive, handover))
    try:
        async for chunk in handover.body:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    except asyncio.CancelledError:
        if not handover.cancelled:
            raise  # the server's, not ours: it goes on up
        task.uncancel()  # ended as Quart ends a cancelled answer: no final chunk, no error
    finally:
        watcher.cancel()
        await _close(handover)


async def _gone(receive: Any, handover: Handover) -> None:
    """Wait for the client to leave (nothing else comes after a GET's body), then stop the body."""
    while (await receive())["type"] != "http.disconnect":
        pass
    handover.gone = True
    handover.cancel()


async def _close(handover: Handover) -> None:
    body, handover.body = handover.body, None
    try:
        if body is not None and hasattr(body, "aclose"):
            await body.aclose()
    finally:
        _end(handover)


def _end(handover: Handover) -> None:
    ended, handover.ended = handover.ended, None
    handover.body = None
    if ended is not None:
        ended()
