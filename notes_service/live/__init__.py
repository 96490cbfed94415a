"""The live stream of SPEC §10, in each worker: its open streams, what wakes them, what ends them.

- hub.py       the open streams by user; waking and ending them
- sse.py       one stream's body: the feed after its cursor as events, heartbeats, the `retry:` hint
- notify.py    after each commit: wake this worker's streams, tell the others (relays.py: Redis
               pub/sub or PostgreSQL LISTEN/NOTIFY; sockets.py: on SQLite, UNIX datagram sockets
               between the workers of the host), and fall back to the poll when that is down
- poll.py      one look per worker at its streams' users' change numbers (on SQLite always, beside
               the sockets: for the command line's writes and a dropped datagram)
- checks.py    one look per worker at its streams' sign-ins: revoked or expired ones end
- counts.py    open streams per user, shared by the workers (and with Redis, the hosts)

`Live` holds them for the worker; the routes (blueprints/api/events.py, blueprints/events.py) ask it
to `open` a stream and run its body (after Quart's request: http/handover.py). A stream's end (the
client left, it was ended) is the end of its body, which takes it out of the hub and the counts.
"""

from __future__ import annotations

import random
from collections.abc import AsyncGenerator

from quart import Quart

from ..config import Settings
from ..data import Database
from ..http.connections import Transport
from ..http.current import session_lifetime
from ..serving import worker
from .checks import SignInCheck
from .counts import StreamCounts, shared_table, stream_counts
from .hub import Ending, Hub, Stream
from .notify import Notifications
from .poll import Poll
from .relays import PostgresRelay, RedisRelay, Relay
from .sockets import SocketRelay, socket_directory

__all__ = ["Live", "Refused", "Stream", "init_app"]
FULL_RETRY_SECONDS = 5
USER_RETRY_SECONDS = 15
STOPPING_RETRY_SECONDS = (1, 5)
# A send may wait this many heartbeats for a client that does not read before the stream is cut off.
STUCK_HEARTBEATS = 2


class Refused(Exception):
    """No stream for this request now: 429 (the user has too many) or 503 (the worker is full or
    stopping), and when to try again."""

    def __init__(self, status: int, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.retry_after = retry_after


class Live:
    """This worker's streams and what keeps them going (see the module docstring)."""

    def __init__(self, settings: Settings, database: Database, counts: StreamCounts) -> None:
        self.settings = settings
        self.database = database
        self.hub = Hub(settings.events_per_worker)
        self.counts = counts
        heartbeat = settings.events_heartbeat_seconds
        self.check = SignInCheck(
            self.hub,
            database,
            session_lifetime(settings),
            settings.events_check_seconds,
            patience=STUCK_HEARTBEATS * heartbeat,
        )
        self.poll = Poll(self.hub, database, settings.events_poll_seconds)
        self.notifications = Notifications(self.hub, self.poll, _relay(settings, database), self.check.soon)

    @property
    def heartbeat(self) -> float:
        return self.settings.events_heartbeat_seconds

    def start(self) -> None:
        self.notifications.start()
        self.check.start()
        self.counts.start()
        self.database.publisher = self.notifications
        worker.on_stop(self.stop)

    async def close(self) -> None:
        worker.forget(self.stop)
        self.stop()
        self.database.publisher = None
        await self.check.close()
        await self.notifications.close()
        await self.counts.close()

    def stop(self) -> None:
        """The worker is stopping: every stream ends now with a `retry:` hint; no new one opens."""
        self.hub.stopping = True
        self.hub.end_all(Ending.STOPPING)

    async def open(
        self,
        user_id: int,
        *,
        token_id: int | None = None,
        auth_session_id: int | None = None,
        connection: Transport | None = None,
    ) -> Stream:
        """A new stream of the user, in the hub and the counts until `closed`, which whoever runs
        its body calls when it ends; `Refused` when the worker is stopping or full, or the user has
        too many streams."""
        if self.hub.stopping:
            raise Refused(503, "The service is restarting", random.randint(*STOPPING_RETRY_SECONDS))
        if self.hub.full:
            raise Refused(503, "Too many open streams on this server", FULL_RETRY_SECONDS)
        stream = Stream(user_id, token_id=token_id, auth_session_id=auth_session_id, connection=connection)
        if not await self.counts.acquire(stream, limit=self.settings.events_per_user):
            raise Refused(429, "Too many open streams for this account", USER_RETRY_SECONDS)
        self.hub.add(stream)
        return stream

    def closed(self, stream: Stream) -> None:
        """The stream's request is over (idempotent)."""
        if stream in self.hub.by_user.get(stream.user_id, ()):
            self.hub.remove(stream)
            self.counts.release(stream)


def _relay(settings: Settings, database: Database) -> Relay | None:
    """Redis when configured; else PostgreSQL's LISTEN/NOTIFY; else (SQLite) the sockets of the
    workers on that file, or none (an in-memory database): the poll alone."""
    if settings.redis_url:
        return RedisRelay(settings.redis_url, settings.redis_prefix)
    if database.dialect == "postgresql":
        return PostgresRelay(database)
    directory = socket_directory(settings.database_url)
    return SocketRelay(directory) if directory is not None else None


def current_live(app: Quart) -> Live:
    live: Live = app.extensions["live"]
    return live


def init_app(app: Quart) -> None:
    """Run the live machinery while the app serves (after data.init_app opened the database)."""
    settings: Settings = app.config["NOTES"]
    table = shared_table()  # here, in the supervisor: before `serve` forks its workers

    @app.while_serving
    async def run_live() -> AsyncGenerator[None, None]:
        live = Live(settings, app.extensions["database"], stream_counts(settings, table))
        app.extensions["live"] = live
        live.start()
        yield
        await live.close()
