"""What a worker does after each committed write block, and with what other workers tell it.

`publish` (the `Store`'s publisher, data/store.py) wakes this worker's streams of the users a block
changed at once, asks for a sign-in check when the block revoked any, and queues one message for
the relay (relays.py), which a task of its own sends: blocks that commit while it sends share the
next message, so a burst of writes is a few messages, not one each, and no request waits for Redis
or PostgreSQL. Whatever arrives from the relay does the same here; a worker's own messages come
back to it too, and are skipped.

When the relay goes down (Redis killed, the listening connection terminated, the socket file
removed), streams fall back to the poll (poll.py), logged once (`event=live_notifications_down`);
the relay is tried again every `RETRY_SECONDS`, and once it listens again the poll makes one last
round and stops (`event=live_notifications_restored`) — except beside the host's sockets on SQLite
(sockets.py), which hear no command line and may drop a datagram: there the poll runs all along.
Nothing is lost meanwhile: a message only says "look", and
each stream reads its feed from its own cursor.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable

import orjson

from ..http.logs import event
from .hub import Hub
from .poll import Poll
from .relays import Relay

log = logging.getLogger("notes_service.live")
RETRY_SECONDS = 1.0
# Users per message: a PostgreSQL NOTIFY payload must stay under 8,000 bytes.
USERS_PER_MESSAGE = 500


class Notifications:
    """This worker's side of the relay (or of the poll alone, where there is no relay)."""

    def __init__(self, hub: Hub, poll: Poll, relay: Relay | None, check_soon: Callable[[], None]) -> None:
        self.hub = hub
        self.poll = poll
        self.relay = relay
        self.check_soon = check_soon
        self.sender_id = secrets.token_hex(8)  # this worker, in its messages
        self.users: set[int] = set()  # not sent yet
        self.revoked = False
        self.queued = asyncio.Event()
        self.down = False
        self.publish_failing = False
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        if self.relay is None or not self.relay.complete:
            self.poll.start(catch_up=False)
        if self.relay is None:
            return
        self.tasks = [asyncio.create_task(self._send()), asyncio.create_task(self._listen())]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        polling, self.poll.task = self.poll.task, None
        if polling is not None:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
        if self.relay is not None:
            await self.relay.close()

    def publish(self, user_ids: frozenset[int], *, revoked: bool) -> None:
        """After a commit: wake this worker's streams now; tell the others soon."""
        self.hub.wake(user_ids)
        if revoked:
            self.check_soon()
        if self.relay is not None:
            self.users |= user_ids
            self.revoked = self.revoked or revoked
            self.queued.set()

    def received(self, payload: str) -> None:
        """A message from the relay: another worker's or host's commit."""
        try:
            message = orjson.loads(payload)
            sender, user_ids, revoked = message["from"], message["users"], message["revoked"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return  # not one of ours
        if sender == self.sender_id:
            return
        self.hub.wake(user_ids)
        if revoked:
            self.check_soon()

    async def _send(self) -> None:
        assert self.relay is not None
        while True:
            await self.queued.wait()
            self.queued.clear()
            users, self.users = sorted(self.users), set()
            revoked, self.revoked = self.revoked, False
            for start in range(0, max(len(users), 1), USERS_PER_MESSAGE):
                part = users[start : start + USERS_PER_MESSAGE]
                payload = {"from": self.sender_id, "users": part, "revoked": revoked}
                await self._publish(orjson.dumps(payload).decode())

    async def _publish(self, payload: str) -> None:
        assert self.relay is not None
        try:
            await self.relay.publish(payload)
        except Exception as error:  # the others poll while the relay is down; nothing to retry
            if not self.publish_failing:
                self.publish_failing = True
                event(log, "live_publish_failed", notifier=self.relay.name, error=type(error).__name__)
        else:
            if self.publish_failing:
                self.publish_failing = False
                event(log, "live_publish_restored", notifier=self.relay.name)

    async def _listen(self) -> None:
        assert self.relay is not None
        while True:
            try:
                await self.relay.listen(self.received, self._up)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # whatever the client raises, the relay is down
                self._down(error)
            await asyncio.sleep(RETRY_SECONDS)

    def _up(self) -> None:
        if self.down:
            self.down = False
            event(log, "live_notifications_restored", notifier=self._name)
            if self.relay is not None and self.relay.complete:
                self.tasks = [task for task in self.tasks if not task.done()]
                self.tasks.append(asyncio.create_task(self.poll.stop()))

    def _down(self, error: Exception) -> None:
        if not self.down:
            self.down = True
            event(
                log,
                "live_notifications_down",
                notifier=self._name,
                fallback="poll",
                error=type(error).__name__,
            )
            # Waking every stream reads what the relay may have missed before the poll's first round.
            self.poll.start(catch_up=True)

    @property
    def _name(self) -> str:
        return self.relay.name if self.relay is not None else "poll"
