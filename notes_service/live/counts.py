"""How many streams each user has open, for NOTES_EVENTS_PER_USER: across every worker and host.

- **Redis** (NOTES_REDIS_URL): a sorted set per user of its streams, each scored with the time its
  lease ends; a worker renews the leases of its open streams every `LEASE_SECONDS / 3`, so the
  streams of a worker that died stop counting within `LEASE_SECONDS`. Taking a place is one atomic
  script (drop ended leases, count, add), so concurrent opens on several hosts never pass the limit.
  While Redis does not answer, the count below stands in.
- **The workers of one `notes-service serve`** (no Redis): a table in memory shared by the workers,
  made before they are forked. Each worker writes only its own region (its supervisor slot; a
  replacement clears its dead predecessor's), so no lock is needed and no crash leaves a count
  behind. A region is a count-min sketch: `HASHES` rows of `BUCKETS` counters, a user counted in
  one bucket per row; a user's streams are at most the smallest of their buckets' sums over the
  regions, and more only when another user shares every one of their buckets (with 10,000 streams
  on a worker, rare). Two workers opening a user's streams in the same instant may together pass
  the limit by one each; nothing else does.
- **One process alone** (plain `hypercorn`, the tests): a dict.
"""

from __future__ import annotations

import asyncio
import logging
import mmap
import time
from typing import Protocol

from ..config import Settings
from ..data.redis_clients import redis_client
from ..http.logs import event
from ..serving import worker
from .hub import Stream

log = logging.getLogger("notes_service.live")
REGIONS = 64  # workers of one `serve` sharing the table; a slot past it counts alone
HASHES = 2
BUCKETS = 1 << 14
COUNTER_BYTES = 2  # uint16: a bucket holds at most 65,535 streams of one worker
REGION_COUNTERS = HASHES * BUCKETS
LEASE_SECONDS = 30.0
REDIS_RETRY_SECONDS = 5.0
RENEW_SLICE = 200  # leases renewed in one pipeline: a few milliseconds of the loop at a time
# KEYS[1]: the user's set; ARGV: now, lease end, limit, stream. 1: a place was taken, 0: full.
TAKE_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[2] - ARGV[1]) + 1)
return 1
"""


class StreamCounts(Protocol):
    def start(self) -> None: ...

    async def close(self) -> None: ...

    async def acquire(self, stream: Stream, *, limit: int) -> bool:
        """Count the stream for its user, unless the user has `limit` open already (False)."""

    def release(self, stream: Stream) -> None:
        """The stream is over (once per stream `acquire` took)."""


class LocalCounts:
    """This process's streams only."""

    def __init__(self) -> None:
        self.by_user: dict[int, int] = {}

    def start(self) -> None:
        """Nothing to start."""

    async def close(self) -> None:
        """Nothing to close."""

    async def acquire(self, stream: Stream, *, limit: int) -> bool:
        if self.by_user.get(stream.user_id, 0) >= limit:
            return False
        self.by_user[stream.user_id] = self.by_user.get(stream.user_id, 0) + 1
        return True

    def release(self, stream: Stream) -> None:
        left = self.by_user.get(stream.user_id, 0) - 1
        if left > 0:
            self.by_user[stream.user_id] = left
        else:
            self.by_user.pop(stream.user_id, None)


def shared_table() -> mmap.mmap:
    """The table the workers of one `serve` share: made in the supervisor, before the fork (an
    anonymous shared mapping; pages are only made as they are touched)."""
    return mmap.mmap(-1, REGIONS * REGION_COUNTERS * COUNTER_BYTES)


class SharedCounts:
    """The streams of every worker of this `serve`, in the shared table (see the module docstring)."""

    def __init__(self, table: mmap.mmap, region: int) -> None:
        self.counters = memoryview(table).cast("H")
        self.region = region

    def _buckets(self, user_id: int) -> list[int]:
        """The user's counter in each row of a region (offsets within the region)."""
        mixed = (user_id * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF  # spread consecutive ids
        return [row * BUCKETS + ((mixed >> (20 * row)) & (BUCKETS - 1)) for row in range(HASHES)]

    def start(self) -> None:
        """Clear this worker's region: what a dead predecessor in this slot counted is gone."""
        base = self.region * REGION_COUNTERS
        self.counters[base : base + REGION_COUNTERS] = memoryview(
            bytes(REGION_COUNTERS * COUNTER_BYTES)
        ).cast("H")

    async def close(self) -> None:
        self.start()

    def count(self, user_id: int) -> int:
        """At least the user's open streams on every worker (see the module docstring)."""
        counters = self.counters
        return min(
            sum(counters[region * REGION_COUNTERS + bucket] for region in range(REGIONS))
            for bucket in self._buckets(user_id)
        )

    async def acquire(self, stream: Stream, *, limit: int) -> bool:
        if self.count(stream.user_id) >= limit:
            return False
        self._add(stream.user_id, 1)
        return True

    def release(self, stream: Stream) -> None:
        self._add(stream.user_id, -1)

    def _add(self, user_id: int, step: int) -> None:
        base = self.region * REGION_COUNTERS
        for bucket in self._buckets(user_id):
            self.counters[base + bucket] = max(self.counters[base + bucket] + step, 0)


class RedisCounts:
    """Every host's streams, as leases in Redis (see the module docstring)."""

    def __init__(self, url: str, prefix: str, fallback: StreamCounts) -> None:
        self.redis = redis_client(url)
        self.take = self.redis.register_script(TAKE_SCRIPT)
        self.prefix = f"{prefix}streams:"
        self.fallback = fallback
        self.members: dict[Stream, str] = {}  # this worker's leases: what it renews
        self.in_fallback: set[Stream] = set()
        self.forgetting: set[asyncio.Task[None]] = set()
        self.retry_at = 0.0
        self.unavailable = False
        self.task: asyncio.Task[None] | None = None
        self.sequence = 0
        self.worker_id = f"{time.time_ns():x}"

    def start(self) -> None:
        self.fallback.start()
        self.task = asyncio.create_task(self._renew())

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.fallback.close()
        await self.redis.aclose()

    def _key(self, stream: Stream) -> str:
        return f"{self.prefix}{stream.user_id}"

    async def acquire(self, stream: Stream, *, limit: int) -> bool:
        from redis.exceptions import RedisError

        if time.monotonic() >= self.retry_at:
            self.sequence += 1
            member = f"{self.worker_id}:{self.sequence}"
            now = time.time()
            try:
                taken = await self.take(
                    keys=[self._key(stream)], args=[now, now + LEASE_SECONDS, limit, member]
                )
            except RedisError as error:
                self._down(error)
            else:
                self._up()
                if taken:
                    self.members[stream] = member
                return bool(taken)
        if await self.fallback.acquire(stream, limit=limit):
            self.in_fallback.add(stream)
            return True
        return False

    def release(self, stream: Stream) -> None:
        if stream in self.in_fallback:
            self.in_fallback.discard(stream)
            self.fallback.release(stream)
        member = self.members.pop(stream, None)
        if member is not None:
            task = asyncio.create_task(self._forget(self._key(stream), member))
            self.forgetting.add(task)
            task.add_done_callback(self.forgetting.discard)

    async def _forget(self, key: str, member: str) -> None:
        from redis.exceptions import RedisError

        try:
            await self.redis.zrem(key, member)
        except RedisError:
            pass  # the lease ends by itself

    async def _renew(self) -> None:
        from redis.exceptions import RedisError

        while True:
            await asyncio.sleep(LEASE_SECONDS / 3)
            held = list(self.members.items())
            lease_end = time.time() + LEASE_SECONDS
            try:
                # In slices: one pipeline for 5,000 streams was a second of this worker's loop.
                for start in range(0, len(held), RENEW_SLICE):
                    async with self.redis.pipeline(transaction=False) as pipe:
                        for stream, member in held[start : start + RENEW_SLICE]:
                            pipe.zadd(self._key(stream), {member: lease_end}, xx=True)
                            pipe.expire(self._key(stream), int(LEASE_SECONDS) + 1)
                        await pipe.execute()
            except RedisError as error:
                self._down(error)

    def _down(self, error: Exception) -> None:
        self.retry_at = time.monotonic() + REDIS_RETRY_SECONDS
        if not self.unavailable:
            self.unavailable = True
            event(log, "live_counts_unavailable", error=type(error).__name__, fallback="this host")

    def _up(self) -> None:
        if self.unavailable:
            self.unavailable = False
            event(log, "live_counts_restored")


def stream_counts(settings: Settings, table: mmap.mmap) -> StreamCounts:
    """Redis when configured, else this `serve`'s shared table, else this process alone."""
    slot = worker.slot()
    local: StreamCounts = SharedCounts(table, slot) if slot is not None and slot < REGIONS else LocalCounts()
    if settings.redis_url:
        return RedisCounts(settings.redis_url, settings.redis_prefix, local)
    return local
