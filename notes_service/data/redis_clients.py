"""The one way the service opens a Redis client (the throttle's counts, the live streams' counts
and relay): the same options everywhere, and a pool that makes callers wait.

redis-py 8's default pool refuses a command with `MaxConnectionsError` once 100 connections are in
use, which 10,000 streams opening at once reach in an instant (each takes its place with a script):
every refusal then looked like Redis being down. A `BlockingConnectionPool` holds at most
`connections` and makes the 51st caller wait for one (up to its timeout) instead. RESP2: redis-py 8
would open each connection with HELLO 3, which Redis 5 does not know.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

CONNECTIONS = 50
CONNECT_TIMEOUT_SECONDS = 1.0


def redis_client(
    url: str, *, timeout: float | None = 1.0, connections: int = CONNECTIONS, **options: object
) -> Redis:
    """A client for `url`: each command waits at most `timeout` for its answer (None: for ever, as
    a subscriber does) and, when all `connections` are busy, as long again for one of them."""
    from redis.asyncio import BlockingConnectionPool, Redis

    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=connections,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
        protocol=2,
        **options,
    )
    return Redis.from_pool(pool)  # closing the client closes its pool
