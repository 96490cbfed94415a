"""Throttling of the sign-in and sign-up endpoints (SPEC §4).

Fixed windows of `NOTES_AUTH_RATE_LIMIT` (COUNT/SECONDS) per route and client address, and for login
also per account. The client address is `request.remote_addr` *after* the proxy fix, never the
left-most X-Forwarded-For value, which any client can write. Counters live in process memory, or in
Redis (`NOTES_REDIS_URL`) so every worker and host shares one budget: there INCR and EXPIRE run in
one MULTI, so concurrent requests cannot both slip under the limit and keys expire by themselves.

quart-rate-limiter was measured and not used: its Redis store reads then writes (racy across workers),
its keys never expire, and its default key is the spoofable `access_route[0]`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, Protocol, TypeVar

from quart import Quart, current_app, request

from .config import RateLimit
from .errors import HTTPError
from .logs import event

log = logging.getLogger("notes_service.throttle")
View = TypeVar("View", bound=Callable[..., Awaitable[Any]])
TOO_MANY = "Too many attempts. Please wait {seconds} seconds and try again."


class Counter(Protocol):
    async def hit(self, key: str, limit: RateLimit) -> int | None:
        """Count one attempt; return seconds to wait when over the limit, else None."""

    async def close(self) -> None: ...


class MemoryCounter:
    """Per-process fixed windows: {key: (window end, count)}."""

    def __init__(self) -> None:
        self.windows: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, limit: RateLimit) -> int | None:
        now = time.monotonic()
        if len(self.windows) > 10_000:
            self.windows = {k: v for k, v in self.windows.items() if v[0] > now}
        ends, count = self.windows.get(key, (0.0, 0))
        if ends <= now:
            ends, count = now + limit.seconds, 0
        self.windows[key] = (ends, count + 1)
        return math.ceil(ends - now) if count + 1 > limit.count else None

    async def close(self) -> None:
        self.windows.clear()


class RedisCounter:
    """Fixed windows shared through Redis; fails open (logged) if Redis is unreachable."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    async def hit(self, key: str, limit: RateLimit) -> int | None:
        from redis.exceptions import RedisError

        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, limit.seconds, nx=True)
                pipe.ttl(key)
                count, _, ttl = await pipe.execute()
        except RedisError as error:
            log.error("event=throttle_unavailable error=%s", type(error).__name__)
            return None
        return max(int(ttl), 1) if count > limit.count else None

    async def close(self) -> None:
        await self.redis.aclose()


def init_app(app: Quart) -> None:
    settings = app.config["NOTES"]

    @app.before_serving
    async def open_counter() -> None:
        app.extensions["throttle"] = (
            RedisCounter(settings.redis_url) if settings.redis_url else MemoryCounter()
        )

    @app.after_serving
    async def close_counter() -> None:
        counter = app.extensions.pop("throttle", None)
        if counter is not None:
            await counter.close()


def throttled(scope: str, *, account_field: str | None = None) -> Callable[[View], View]:
    """Limit POSTs to a route per client address (and per account when `account_field` is set)."""

    def decorator(view: View) -> View:
        @wraps(view)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            limit = current_app.config["NOTES"].auth_rate_limit
            if limit is not None and request.method == "POST":
                await _check(scope, limit, account_field)
            return await view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools.wraps: the view's own signature

    return decorator


async def _check(scope: str, limit: RateLimit, account_field: str | None) -> None:
    counter: Counter = current_app.extensions["throttle"]
    keys = [f"notes:throttle:{scope}:ip:{request.remote_addr}"]
    if account_field and (account := await _submitted(account_field)):
        keys.append(f"notes:throttle:{scope}:account:{account.strip().lower()[:254]}")
    waits = [wait for key in keys if (wait := await counter.hit(key, limit)) is not None]
    if waits:
        seconds = max(waits)
        event(log, "throttled", scope=scope, client=request.remote_addr)
        raise HTTPError(429, TOO_MANY.format(seconds=seconds), headers={"Retry-After": str(seconds)})


async def _submitted(field: str) -> str | None:
    """A field of the submitted form or JSON body, if it is a string."""
    if request.is_json:
        body = await request.get_json(silent=True)
        value = body.get(field) if isinstance(body, dict) else None
    else:
        value = (await request.form).get(field)
    return value if isinstance(value, str) else None
