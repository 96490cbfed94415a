"""A uvloop event loop that accepts every queued connection each time its listening socket is ready.

libuv (since 1.45, libuv#3696) accepts one connection per loop iteration. A busy worker's iterations
are long (each runs the requests that became ready), so a burst of new connections drains from the
accept queue one per iteration while the worker's existing connections keep being served: measured
with 256 connections opened at once on 2 workers, the last ones waited about a second in the queue,
and those first requests were the whole p99 (and past 2 s, wrk's timeouts). The stock asyncio loop
takes up to `backlog` connections per wakeup; this loop does the same, so a new connection's first
request joins the queue of work at once, in arrival order.

Only `create_server(sock=...)`, which hypercorn uses for every listening socket, changes; the
connections are still uvloop transports (`connect_accepted_socket`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from typing import Any

import uvloop

from ..http.logs import clean

log = logging.getLogger("notes_service.serving.server")
RETRY_SECONDS = 1.0  # out of file descriptors: leave the queue alone this long (as asyncio does)


class AcceptingLoop(uvloop.Loop):
    """uvloop, but listening sockets handed to it are drained on every wakeup."""

    async def create_server(  # type: ignore[override]
        self,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        host: Any = None,
        port: Any = None,
        *,
        sock: socket.socket | None = None,
        backlog: int = 100,
        **options: Any,
    ) -> asyncio.AbstractServer:
        if sock is None:
            return await super().create_server(protocol_factory, host, port, backlog=backlog, **options)
        return Listener(self, sock, protocol_factory, backlog, options)


class Listener(asyncio.AbstractServer):
    """Accepts up to `backlog` queued connections whenever `sock` is readable."""

    def __init__(
        self,
        loop: AcceptingLoop,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.BaseProtocol],
        backlog: int,
        options: dict[str, Any],
    ) -> None:
        self.loop = loop
        self.sock = sock
        self.protocol_factory = protocol_factory
        self.backlog = max(backlog, 1)
        self.tls = {key: options[key] for key in ("ssl", "ssl_handshake_timeout") if options.get(key)}
        self.starting: set[asyncio.Task[Any]] = set()
        self.serving = True
        self.closed = loop.create_future()
        sock.setblocking(False)
        sock.listen(self.backlog)
        loop.add_reader(sock.fileno(), self._accept)

    def _accept(self) -> None:
        for _ in range(self.backlog):
            try:
                connection, _address = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue  # the client gave up while queued
            except OSError as error:  # EMFILE, ENFILE, ENOBUFS, ENOMEM: the rest waits in the queue
                log.error("event=accept_failed error=%s retry_seconds=%s", clean(error), RETRY_SECONDS)
                self.loop.remove_reader(self.sock.fileno())
                self.loop.call_later(RETRY_SECONDS, self._resume)
                return
            connection.setblocking(False)
            start = self.loop.connect_accepted_socket(self.protocol_factory, connection, **self.tls)
            task = self.loop.create_task(start)
            self.starting.add(task)
            task.add_done_callback(self._started)

    def _started(self, task: asyncio.Task[Any]) -> None:
        self.starting.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("event=connection_lost_at_start error=%s", clean(task.exception()))

    def _resume(self) -> None:
        if self.serving:
            self.loop.add_reader(self.sock.fileno(), self._accept)

    def close(self) -> None:
        """Stop accepting (this process's copy of the socket; the supervisor holds its own)."""
        if self.serving:
            self.serving = False
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
            self.closed.set_result(None)

    async def wait_closed(self) -> None:
        """Returns once closed: hypercorn then waits for its connections' tasks itself."""
        await asyncio.shield(self.closed)

    async def start_serving(self) -> None:
        """Already serving: it accepts from the moment it is made."""

    async def serve_forever(self) -> None:
        await asyncio.shield(self.closed)

    def is_serving(self) -> bool:
        return self.serving

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self.loop
