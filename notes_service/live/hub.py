"""A worker's open streams, by user: what a change wakes, and what ends them.

A stream is one open `GET /api/events` or `GET /events`. It sleeps until woken (a change of its
user's notes, from this worker's own writes or a notification from elsewhere) or until its next
heartbeat; woken, it reads its user's feed from its own cursor, so a wake only says "look": two
wakes in a row cost one read, and a lost one loses nothing that the next does not bring.

Ending a stream (its sign-in was revoked, the worker stops, the client stopped reading) asks it to
finish; a stream that is stuck sending to a client that does not read cannot, so its body is
cancelled after `END_GRACE_SECONDS`, which closes the connection.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from ..http.connections import Transport
from ..http.logs import event

log = logging.getLogger("notes_service.live")
END_GRACE_SECONDS = 0.5
RESOLUTION = 0.05  # seconds: heartbeats due within the same 50 ms share a timer callback
CLOCK_SLACK = 0.002  # a loop's timer may fire this early (uvloop's clock counts milliseconds)


class Ending:
    """Why a stream ends (its `ending`)."""

    REVOKED = "revoked"  # the token or browser session no longer signs the user in
    STOPPING = "stopping"  # the worker was asked to stop: the client reconnects elsewhere
    STUCK = "stuck"  # the client has not read what was sent for too long


class Cancellable(Protocol):
    """What runs a stream's body (http/handover.py's `Handover`): cancelled if it cannot end by itself."""

    def done(self) -> bool: ...

    def cancel(self) -> None: ...


@dataclass(eq=False, slots=True)
class Stream:
    """One open event stream of `user_id`, signed in by a token or by an auth session."""

    user_id: int
    token_id: int | None = None
    auth_session_id: int | None = None
    seq: int = 0  # the change number its client has been sent everything up to
    polled_seq: int = 0  # the highest change number a poll woke it for
    ending: str | None = None
    sending_since: float | None = None  # when the send in progress began (monotonic), if any
    task: Cancellable | None = None  # what runs its body: cancelled if it cannot end by itself
    connection: Transport | None = None  # its connection's transport (http/connections.py)
    # What `wait` returns for: a wake (look at the feed) or the heartbeat being due. Two flags and a
    # future made only while it waits, not an asyncio.Event each (a deque of waiters: 0.8 KiB).
    woken: bool = False
    beat_due: bool = False
    waiter: asyncio.Future[None] | None = None

    def wake(self) -> None:
        """Look at the feed (now, or when the send in progress is done)."""
        self.woken = True
        self._resume()

    def beat(self) -> None:
        """The heartbeat is due (`Beats`)."""
        self.beat_due = True
        self._resume()

    def _resume(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def wait(self) -> None:
        """Until woken, the heartbeat is due, or the stream is ended (at once if one of them is so)."""
        if self.woken or self.beat_due or self.ending is not None:
            return
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            await self.waiter
        finally:
            self.waiter = None

    def stuck_since(self, before: float) -> bool:
        """Whether a send to the client has been waiting since before `before` (monotonic)."""
        return self.sending_since is not None and self.sending_since < before


class Beats:
    """When the streams' next heartbeats are due: one timer for all of a worker's streams, firing every
    `RESOLUTION` seconds at most while some are due, instead of a timer handle and a timeout
    object for each waiting stream. A heartbeat comes at most `RESOLUTION` late."""

    def __init__(self) -> None:
        self.due: dict[int, list[Stream]] = {}  # slot (loop time // RESOLUTION) -> streams
        self.slots: list[int] = []  # heap of the slots in `due`
        self.timer: asyncio.TimerHandle | None = None
        self.timer_slot: int | None = None

    def at(self, stream: Stream, when: float) -> None:
        """Call `stream.beat()` at `when` (the running loop's time) or just after."""
        slot = math.ceil(when / RESOLUTION)
        streams = self.due.get(slot)
        if streams is not None:
            streams.append(stream)
            return
        self.due[slot] = [stream]
        heapq.heappush(self.slots, slot)
        if self.timer_slot is None or slot < self.timer_slot:
            self._arm(slot)

    def _arm(self, slot: int) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.timer_slot = slot
        self.timer = asyncio.get_running_loop().call_at(slot * RESOLUTION, self._fire)

    def _fire(self) -> None:
        self.timer = self.timer_slot = None
        now = asyncio.get_running_loop().time()
        while self.slots and self.slots[0] * RESOLUTION <= now + CLOCK_SLACK:
            for stream in self.due.pop(heapq.heappop(self.slots)):
                if stream.ending is None:
                    stream.beat()
        if self.slots:
            self._arm(self.slots[0])


class Hub:
    """The open streams of this worker, at most `per_worker` of them."""

    def __init__(self, per_worker: int) -> None:
        self.per_worker = per_worker
        # A list a user, not a set: most users have one or two streams (a set is 0.2 KiB).
        self.by_user: dict[int, list[Stream]] = {}
        self.count = 0
        self.stopping = False
        self.beats = Beats()

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
        self.by_user.setdefault(stream.user_id, []).append(stream)
        self.count += 1

    def remove(self, stream: Stream) -> None:
        streams = self.by_user.get(stream.user_id)
        if streams is None or stream not in streams:
            return
        streams.remove(stream)
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
