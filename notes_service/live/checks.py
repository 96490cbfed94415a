"""The sign-in check: every `NOTES_EVENTS_CHECK_SECONDS`, one look at whether the tokens and auth
sessions of all this worker's streams still sign their users in; the streams of those that do not
end.

A stream was let in by its sign-in when it opened, but a token is revoked, an auth session ends and
an account is deactivated or deleted by any route, command or host, and none of them knows which
worker holds which stream. So each worker asks, for all its streams at once: one statement for the
tokens and one for the auth sessions, whatever their number, that name only the ended ones
(`services.live.ended_sign_ins`). A
committed block that revoked sign-ins (`Store.revoked`) asks for the check at once, here and,
through the notifications, on every other worker; the timer bounds it where no notification
comes. The same round ends streams whose client has not taken what was sent for two heartbeats.
"""

from __future__ import annotations

import asyncio
import logging

from ..data import Database
from ..http.logs import event
from ..services import live
from ..services.auth_sessions import Lifetime
from .hub import Ending, Hub

log = logging.getLogger("notes_service.live")
# Checks asked for in a burst (a password change revokes many sign-ins) share one.
LEAST_GAP_SECONDS = 0.05


class SignInCheck:
    def __init__(
        self, hub: Hub, database: Database, lifetime: Lifetime, every: float, patience: float
    ) -> None:
        self.hub = hub
        self.database = database
        self.lifetime = lifetime
        self.every = every
        self.patience = patience  # how long a send may wait for a client that does not read
        self.asked = asyncio.Event()
        self.failing = False
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    def soon(self) -> None:
        """Check now rather than at the next tick."""
        self.asked.set()

    async def _run(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self.every):
                    await self.asked.wait()
            except TimeoutError:
                pass
            self.asked.clear()
            await self._round_logged()
            await asyncio.sleep(LEAST_GAP_SECONDS)

    async def _round_logged(self) -> None:
        try:
            await self.round()
        except Exception as error:  # the database is away: streams go on, the next round retries
            if not self.failing:
                self.failing = True
                event(log, "live_check_failed", error=type(error).__name__)
        else:
            if self.failing:
                self.failing = False
                event(log, "live_check_restored")

    async def round(self) -> None:
        """End the streams whose sign-in no longer holds, and those stuck on a client."""
        self.hub.end_stuck(self.patience)
        streams = [stream for stream in self.hub if stream.ending is None]
        if not streams:
            return
        token_ids = {stream.token_id for stream in streams if stream.token_id is not None}
        session_ids = {stream.auth_session_id for stream in streams if stream.auth_session_id is not None}
        tokens, sessions = await live.ended_sign_ins(
            self.database.store(), token_ids=token_ids, auth_session_ids=session_ids, lifetime=self.lifetime
        )
        if not tokens and not sessions:
            return
        for stream in streams:
            if stream.token_id in tokens or stream.auth_session_id in sessions:
                self.hub.end(stream, Ending.REVOKED)
