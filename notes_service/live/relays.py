"""How a worker tells the others "look: these users' notes changed": Redis pub/sub or PostgreSQL
LISTEN/NOTIFY (one listening connection per worker). On SQLite without Redis, the workers of the one
host tell each other through UNIX datagram sockets (sockets.py), beside the poll (poll.py).

A relay only carries messages; `notify.Notifications` decides what they say and what to do when
the relay is down. `listen` runs until the relay's connection is lost, and raises then.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from ..data import Database
from ..services import live

if TYPE_CHECKING:
    import asyncpg

CHANNEL = "notes_live"
# A listener that hears nothing this long asks its server whether the connection still holds (a
# network that drops packets silently raises nothing by itself).
KEEPALIVE_SECONDS = 5.0
KEEPALIVE_TIMEOUT_SECONDS = 2.0


class RelayLost(ConnectionError):
    """The relay's listening connection ended."""


class Relay(Protocol):
    name: str
    # Whether every write reaches the listeners through it; if not (the sockets relay hears no
    # command line and may drop a datagram), the poll runs beside it.
    complete: bool

    async def publish(self, payload: str) -> None:
        """Send one message to every listener (this worker's own included)."""

    async def listen(self, deliver: Callable[[str], None], ready: Callable[[], None]) -> None:
        """Call `ready` once listening, then `deliver` each message, until the connection is lost."""

    async def close(self) -> None: ...


class RedisRelay:
    """Redis pub/sub on the channel `{NOTES_REDIS_PREFIX}live`, shared by every worker and host."""

    name = "redis"
    complete = True

    def __init__(self, url: str, prefix: str) -> None:
        from redis.asyncio import Redis

        # RESP2, as the throttle's client (redis-py 8 would say HELLO 3, which Redis 5 does not know).
        self.publisher = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1, protocol=2)
        # The subscriber waits for messages for ever: no read timeout, but a PING when idle.
        self.subscriber = Redis.from_url(
            url, socket_connect_timeout=1, protocol=2, health_check_interval=KEEPALIVE_SECONDS
        )
        self.channel = f"{prefix}live"

    async def publish(self, payload: str) -> None:
        await self.publisher.publish(self.channel, payload)

    async def listen(self, deliver: Callable[[str], None], ready: Callable[[], None]) -> None:
        pubsub = self.subscriber.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            ready()
            while True:
                message = await pubsub.get_message(timeout=KEEPALIVE_SECONDS)
                if message is not None and message["type"] == "message":
                    data = message["data"]
                    deliver(data.decode() if isinstance(data, bytes) else str(data))
        finally:
            with contextlib.suppress(Exception):  # the connection may be gone already
                await pubsub.aclose()

    async def close(self) -> None:
        await self.publisher.aclose()
        await self.subscriber.aclose()


class PostgresRelay:
    """LISTEN on a connection of the worker's own; NOTIFY through the read pool, so a worker whose
    listener is down still tells the others."""

    name = "postgresql"
    complete = True

    def __init__(self, database: Database) -> None:
        self.database = database

    async def publish(self, payload: str) -> None:
        await live.notify(self.database.store(), channel=CHANNEL, payload=payload)

    async def listen(self, deliver: Callable[[str], None], ready: Callable[[], None]) -> None:
        connection = await self.database.listen(CHANNEL, deliver)
        lost = asyncio.Event()
        connection.add_termination_listener(lambda _connection: lost.set())
        try:
            ready()
            while not connection.is_closed():
                try:
                    async with asyncio.timeout(KEEPALIVE_SECONDS):
                        await lost.wait()
                except TimeoutError:
                    await _still_there(connection)
            raise RelayLost("the listening connection was closed")
        finally:
            if not connection.is_closed():
                connection.terminate()

    async def close(self) -> None:
        """Nothing of its own: the listening connection closes with `listen`."""


async def _still_there(connection: asyncpg.Connection) -> None:
    try:
        await connection.execute("SELECT 1", timeout=KEEPALIVE_TIMEOUT_SECONDS)
    except (TimeoutError, OSError) as error:
        raise RelayLost(f"the listening connection does not answer: {error}") from error
