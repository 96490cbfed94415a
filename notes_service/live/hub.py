"""A worker's open streams, by user: what a change wakes, and what ends them.

A stream is one open `GET /api/events` or `GET /events`. It sleeps until woken (a change of its
user's notes, from this worker's own writes or a notification from elsewhere) or until its next
heartbeat; woken, it reads its user's feed from its own cursor, so a wake only says "look": two
wakes in a row cost one read, and a lost one loses nothing that the next does not bring.

Ending a stream (its sign-in was revoked, the worker stops, the client stopped reading) asks it to
finish; a stream that is stuck sending to a client that does not read cannot, so its request task is
cancelled after `END_GRACE_SECONDS`, which closes the connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..http.connections import Transport
from ..http.logs import event

log = logging.getLogger("notes_service.live")
END_GRACE_SECONDS = 0.5


class Ending:
    """Why a stream ends (its `ending`)."""

    REVOKED = "revoked"  # the token or browser session no longer signs the user in
    STOPPING = "stopping"  # the worker was asked to stop: the client reconnects elsewhere
    STUCK = "stuck"  # the client has not read what was sent for too long


@dataclass(eq=False)
class Stream:
    """One open event stream of `user_id`, signed in by a token or by an auth session."""

    user_id: int
    token_id: int | None = None
    auth_session_id: int | None = None
    seq: int = 0  # the change number its client has been sent everything up to
    polled_seq: int = 0  # the highest change number a poll woke it for
    woken: asyncio.Event = field(default_factory=asyncio.Event)
    ending: str | None = None
    sending_since: float | None = None  # when the send in progress began (monotonic), if any
    task: asyncio.Task[Any] | None = None  # the request's task: cancelled if it cannot end by itself
    connection: Transport | None = None  # its connection's transport (http/connections.py)

    def wake(self) -> None:
        self.woken.set()

    def stuck_since(self, before: float) -> bool:
        """Whether a send to the client has been waiting since before `before` (monotonic)."""
        return self.sending_since is not None and self.sending_since < before


class Hub:
    """The open streams of this worker, at most `per_worker` of them."""

    def __init__(self, per_worker: int) -> None:
        self.per_worker = per_worker
        self.by_user: dict[int, set[Stream]] = {}
        self.count = 0
        self.stopping = False

    def __iter__(self) -> Iterator[Stream]:
        for streams in list(self.by_user.values()):
            yield from list(streams)

    @property
    def full(self) -> bool:
        return self.count >= self.per_worker

    def of_user(self, user_id: int) -> int:
        """How many streams of this user this worker holds."""
        return len(self.by_user.get(user_id, ()))

    def add(self, stream: Stream) -> None:
        self.by_user.setdefault(stream.user_id, set()).add(stream)
        self.count += 1

    def remove(self, stream: Stream) -> None:
        streams = self.by_user.get(stream.user_id)
        if streams is None or stream not in streams:
            return
        streams.discard(stream)
        self.count -= 1
        if not streams:
            del self.by_user[stream.user_id]

    def wake(self, user_ids: Iterable[int]) -> None:
        """Tell every stream of these users to look at their feed."""
        by_user = self.by_user
        for user_id in user_ids:
            for stream in by_user.get(user_id, ()):
                stream.wake()

    def wake_all(self) -> None:
        for stream in self:
            stream.wake()

    def end(self, stream: Stream, why: str) -> None:
        """Ask the stream to finish; `finish` it after END_GRACE_SECONDS."""
        if stream.ending is not None:
            return
        stream.ending = why
        stream.wake()
        asyncio.get_running_loop().call_later(END_GRACE_SECONDS, self.finish, stream)

    def end_all(self, why: str) -> None:
        for stream in self:
            self.end(stream, why)

    def finish(self, stream: Stream) -> bool:
        """A stream that is still open, or whose connection still holds what it sent, has a client
        that takes nothing: drop the connection (and what it buffers) and end the request. Whether
        the connection was dropped (without its transport, it closes the graceful way)."""
        dropped = False
        if stream.connection is not None and (
            self._holds(stream) or stream.connection.get_write_buffer_size()
        ):
            stream.connection.abort()
            dropped = True
        if stream.task is not None and not stream.task.done():
            stream.task.cancel()
        return dropped

    def _holds(self, stream: Stream) -> bool:
        return stream in self.by_user.get(stream.user_id, ())

    def end_stuck(self, patience: float) -> int:
        """End the streams whose client has not taken what was sent for `patience` seconds; how many."""
        before = time.monotonic() - patience
        stuck = [stream for stream in self if stream.ending is None and stream.stuck_since(before)]
        for stream in stuck:
            stream.ending = Ending.STUCK
            dropped = self.finish(stream)
            event(
                log, "live_stream_cut", user_id=stream.user_id, reason="client_not_reading", dropped=dropped
            )
        return len(stuck)
