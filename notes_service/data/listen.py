"""A PostgreSQL connection of its own that only listens (`LISTEN`), for the live streams.

Notifications arrive on the connection that asked for them, so it cannot be one of the pools': it
stays open, idle, for as long as the worker listens. It is opened with the engine's own connection
arguments, as the read pool's are (reads.py), and named `notes-service listener` in
`pg_stat_activity` (its `query` says LISTEN only until its first keepalive).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

if TYPE_CHECKING:
    import asyncpg

APPLICATION_NAME = "notes-service listener"


async def listening_connection(
    engine: AsyncEngine, channel: str, deliver: Callable[[str], None]
) -> asyncpg.Connection:
    """A new connection that hands each notification's payload on `channel` to `deliver`."""
    import asyncpg

    args, options = engine.dialect.create_connect_args(engine.url)
    options.pop("prepared_statement_cache_size", None)  # it runs no statement worth caching
    options["server_settings"] = {**options.get("server_settings", {}), "application_name": APPLICATION_NAME}

    def received(_connection: Any, _pid: int, _channel: str, payload: object) -> None:
        deliver(str(payload))

    connection = await asyncpg.connect(*args, **options)
    try:
        await connection.add_listener(channel, received)
    except BaseException:
        connection.terminate()
        raise
    return connection
