"""The poll: one look per worker every `NOTES_EVENTS_POLL_SECONDS` at its streams' users' latest
change numbers, for changes no notification announces.

On SQLite without Redis it is how the workers of the one host hear of each other's writes (and of
the command line's); elsewhere it runs only while the notifier is down. A round costs one statement
whatever the number of streams (`services.live.change_seqs`: a primary-key lookup per user), and
on SQLite not even that while nothing was committed: `PRAGMA data_version` says so first, a library
call. A user whose number passed what their stream was sent (and what a poll woke it for already)
is woken; the stream then reads its feed as for any wake.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ..data import Database
from ..http.logs import event
from ..services import live
from .hub import Hub

log = logging.getLogger("notes_service.live")


class Poll:
    def __init__(self, hub: Hub, database: Database, every: float) -> None:
        self.hub = hub
        self.database = database
        self.every = every
        self.task: asyncio.Task[None] | None = None
        self.data_version: int | None = None
        self.failing = False

    @property
    def running(self) -> bool:
        return self.task is not None

    def start(self, *, catch_up: bool) -> None:
        """Poll from now on. `catch_up`: first wake every stream (each reads its feed from its
        cursor), for what changed since the notifications stopped and before the first round."""
        if self.task is not None:
            return
        if catch_up:
            self.hub.wake_all()
        self.data_version = None
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop polling after one last round (the caller listens again by now: what committed
        before it started listening is in this round)."""
        task, self.task = self.task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self.data_version = None
        await self._round_logged()

    async def _run(self) -> None:
        while True:
            await self._round_logged()
            await asyncio.sleep(self.every)

    async def _round_logged(self) -> None:
        try:
            await self.round()
        except Exception as error:  # the database is away: the next round tries again
            if not self.failing:
                self.failing = True
                event(log, "live_poll_failed", error=type(error).__name__)
        else:
            if self.failing:
                self.failing = False
                event(log, "live_poll_restored")

    async def round(self) -> None:
        """One look: wake the streams whose user has changes they were not sent."""
        version = self.database.reads.data_version()
        if version is not None and version == self.data_version:
            return  # SQLite: nothing committed since the last look
        by_user = self.hub.by_user
        if not by_user:
            self.data_version = version
            return
        seqs = await live.change_seqs(self.database.store(), user_ids=list(by_user))
        self.data_version = version  # only once read: a failed round is tried again
        for user_id, seq in seqs.items():
            for stream in by_user.get(user_id, ()):
                if seq > stream.seq and seq > stream.polled_seq:
                    stream.polled_seq = seq
                    stream.wake()
