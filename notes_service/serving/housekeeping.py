"""Work each worker does by itself on a timer: deleting expired auth sessions, API tokens, emailed
links, pending two-factor sign-ins and Idempotency-Key answers, notes that have been in the trash longer
than NOTES_TRASH_DAYS, and the change feed's deletion markers older than NOTES_TOMBSTONE_DAYS.

Every job is a DELETE of rows that can no longer be used, so several workers or hosts running it at
the same moment do no harm: the first deletes, the others find nothing. A failed round is logged and
the next one runs as planned; the timer stops with the worker.
"""

from __future__ import annotations

import asyncio
import logging
import random

from quart import Quart

from ..data import Database
from ..http.current import session_lifetime
from ..http.logs import event
from ..services import auth_sessions, changes, idempotency, link_tokens, tokens, trash, two_factor

log = logging.getLogger("notes_service.serving.housekeeping")


async def delete_expired(
    database: Database, lifetime: auth_sessions.Lifetime, trash_days: int = 30, tombstone_days: int = 90
) -> None:
    """One round: expired auth sessions, tokens, emailed links, pending sign-ins and kept answers in
    one write block; then old trash, then old deletion markers, each in a block of its own: each
    locks its authors' rows (in id order), and two workers' rounds holding some authors from one job
    while waiting for others of the next could deadlock."""
    store = database.store()
    async with store.write():
        ended = await auth_sessions.delete_expired_auth_sessions(store, lifetime=lifetime)
        expired = await tokens.delete_expired_tokens(store)
        links = await link_tokens.delete_expired_links(store)
        pending = await two_factor.delete_expired_pending(store)
        keys = await idempotency.delete_expired_keys(store)
    async with store.write():
        purged = await trash.purge_expired(store, days=trash_days)
    async with store.write():
        markers = await changes.purge_old_markers(store, days=tombstone_days)
    if ended or expired or links or pending or keys or purged or markers:
        event(
            log,
            "expired_deleted",
            auth_sessions=ended,
            tokens=expired,
            links=links,
            pending_sign_ins=pending,
            idempotency_keys=keys,
            trashed_notes=purged,
            deletion_markers=markers,
        )


async def run_every(
    seconds: float,
    database: Database,
    lifetime: auth_sessions.Lifetime,
    trash_days: int = 30,
    tombstone_days: int = 90,
) -> None:
    """Rounds until cancelled; workers start at random points of the interval so they rarely meet."""
    await asyncio.sleep(random.uniform(0, seconds))  # spreading, not secrecy
    while True:
        try:
            await delete_expired(database, lifetime, trash_days, tombstone_days)
        except Exception:  # the database may be down for a while; try again next round
            log.exception("event=housekeeping_failed")
        await asyncio.sleep(seconds)


def init_app(app: Quart) -> None:
    """Start the timer once the database is open (data.init_app registers first); stop it at the end."""
    settings = app.config["NOTES"]

    @app.before_serving
    async def start_housekeeping() -> None:
        lifetime = session_lifetime(settings)
        task = asyncio.create_task(
            run_every(
                settings.housekeeping_seconds,
                app.extensions["database"],
                lifetime,
                settings.trash_days,
                settings.tombstone_days,
            )
        )
        app.extensions["housekeeping"] = task

    @app.after_serving
    async def stop_housekeeping() -> None:
        task: asyncio.Task[None] | None = app.extensions.pop("housekeeping", None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
