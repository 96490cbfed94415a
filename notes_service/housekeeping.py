"""Work each worker does by itself on a timer: deleting expired auth sessions, API tokens and links.

Every job is a DELETE of rows that can no longer be used, so several workers or hosts running it at
the same moment do no harm: the first deletes, the others find nothing. A failed round is logged and
the next one runs as planned; the timer stops with the worker.
"""

from __future__ import annotations

import asyncio
import logging
import random

from quart import Quart

from .data import Database
from .logs import event
from .services import auth_sessions, link_tokens, tokens

log = logging.getLogger("notes_service.housekeeping")


async def delete_expired(database: Database, lifetime: auth_sessions.Lifetime) -> None:
    """One round: expired auth sessions, tokens and emailed links go, in one write block."""
    store = database.store()
    async with store.write():
        ended = await auth_sessions.delete_expired_auth_sessions(store, lifetime=lifetime)
        expired = await tokens.delete_expired_tokens(store)
        links = await link_tokens.delete_expired_links(store)
    if ended or expired or links:
        event(log, "expired_deleted", auth_sessions=ended, tokens=expired, links=links)


async def run_every(seconds: float, database: Database, lifetime: auth_sessions.Lifetime) -> None:
    """Rounds until cancelled; workers start at random points of the interval so they rarely meet."""
    await asyncio.sleep(random.uniform(0, seconds))  # noqa: S311 - spreading, not secrecy
    while True:
        try:
            await delete_expired(database, lifetime)
        except Exception:  # noqa: BLE001 - the database may be down for a while; try again next round
            log.exception("event=housekeeping_failed")
        await asyncio.sleep(seconds)


def init_app(app: Quart) -> None:
    """Start the timer once the database is open (data.init_app registers first); stop it at the end."""
    settings = app.config["NOTES"]

    @app.before_serving
    async def start_housekeeping() -> None:
        lifetime = auth_sessions.Lifetime.of(settings)
        task = asyncio.create_task(
            run_every(settings.housekeeping_seconds, app.extensions["database"], lifetime)
        )
        app.extensions["housekeeping"] = task

    @app.after_serving
    async def stop_housekeeping() -> None:
        task: asyncio.Task[None] | None = app.extensions.pop("housekeeping", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
