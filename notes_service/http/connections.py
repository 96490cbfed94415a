"""A way for a response to drop its connection at once, which ASGI does not give.

When a response is cut short, hypercorn closes its connection gracefully: it waits until the client
has taken what is buffered. An event stream is cut short exactly when its client takes nothing (live/
hub.py), so that wait would hold the connection, its buffers and its task for as long as the client
stays connected. `Abortable`, the outermost middleware, hands the event-stream routes their
connection's transport (`TRANSPORT` in the scope): `abort()` closes it at once, buffers dropped.

ASGI has no such handle, so it is found behind hypercorn's `send` (its HTTP/1.1 stream, protocol and
TCP server, public attributes of each); anywhere else (another server, HTTP/2) there is none, and
a cut stream's connection closes the graceful way. tests/live/test_serve.py holds hypercorn to it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from typing import Any, Protocol, runtime_checkable

TRANSPORT = "notes.transport"
STREAM_PATHS = ("/events", "/api/events")
# An ASGI app as Quart's `asgi_app` is one: called, it gives the coroutine that serves the request.
ASGIApp = Callable[[Any, Any, Any], Coroutine[Any, Any, None]]


class Abortable:
    """ASGI middleware: the event-stream routes' scopes get `TRANSPORT` where it can be found."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    def __call__(self, scope: Any, receive: Any, send: Any) -> Coroutine[Any, Any, None]:
        # Not a coroutine of its own: the app's is returned, one frame fewer held by each stream.
        if scope["type"] == "http" and scope["path"] in STREAM_PATHS:
            transport = transport_of(send)
            if transport is not None:
                # Into the server's own scope, not a copy: the server makes one per request and
                # keeps it as long as the stream, so a copy would be a second dict held as long.
                scope[TRANSPORT] = Held(transport)
        return self.app(scope, receive, send)


class Held:
    """The transport, as a scope value that copies of the scope share: hypercorn's ProxyFix
    middleware deep-copies the scope, and a transport cannot be copied."""

    __slots__ = ("transport",)

    def __init__(self, transport: Transport) -> None:
        self.transport = transport

    def __copy__(self) -> Held:
        return self

    def __deepcopy__(self, _memo: dict[int, Any]) -> Held:
        return self


def held_transport(scope: Mapping[str, Any]) -> Transport | None:
    """The transport `Abortable` put in this scope, if any."""
    held = scope.get(TRANSPORT)
    return held.transport if isinstance(held, Held) else None


def transport_of(send: Any) -> Transport | None:
    """The transport behind hypercorn's HTTP/1.1 `send`, or None."""
    try:
        server = send.__self__.send.__self__.send.__self__  # stream → protocol → TCP server
        transport = server.writer.transport
    except AttributeError:
        return None
    return transport if isinstance(transport, Transport) else None


@runtime_checkable
class Transport(Protocol):
    """What a stream uses of its connection's asyncio (or uvloop) transport."""

    def abort(self) -> None: ...

    def get_write_buffer_size(self) -> int: ...
