"""The throttle's counters: fixed windows in process memory, or shared through Redis.

`throttle.py` decides what to count and when to refuse; these only count. The Redis counter falls
back on the memory one while Redis is away, carrying its counts across the switch both ways.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import OrderedDict
from typing import Protocol

from ..config import DEFAULT_REDIS_PREFIX, RateLimit
from ..data.redis_clients import redis_client
from .logs import event

log = logging.getLogger("notes_service.http.throttle")
# About 270 bytes a key (600 with a 254-character email): at most ~12 MB of counters a worker,
# however many emails are sent, and far more keys than honest sign-ins make in one window.
MAX_KEYS = 20_000
EVICTED_SLOTS = 1 << 16
REDIS_RETRY_SECONDS = 5.0
# One atomic step, with commands Redis 2.6 already had (EXPIRE ... NX needs Redis 7): count, give a
# new window its expiry, and repair a key left without one, so no key can live (and lock) forever.
HIT_SCRIPT = """
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if count == 1 or ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}
"""


class Counter(Protocol):
    async def hit(self, key: str, limit: RateLimit) -> int | None:
        """Count one attempt; return seconds to wait when over the limit, else None."""

    async def close(self) -> None: ...


class MemoryCounter:
    """Per-process fixed windows, at most `max_keys` of them, oldest first.

    Every submitted email makes a key, so the table is bounded. When it is full, the oldest window
    goes: an ended one if there is one (they sit at the front), else the oldest live one. A live
    window is not forgotten, though: its count is folded into a fixed table of `slots` entries by
    the key's hash (keeping the larger count and the later end), and a key not in the table starts
    from its slot. So flooding the table with new keys can push a throttled account out but never
    resets its count; the price, only while a flood overfills the table, is that a key sharing a slot
    with a throttled one is throttled with it until that window ends. We chose a spurious 429 during
    an attack over extra password guesses. (`hash` is keyed per process: slots cannot be aimed at.)
    """

    def __init__(self, max_keys: int = MAX_KEYS, slots: int = EVICTED_SLOTS) -> None:
        self.windows: OrderedDict[str, tuple[float, int]] = OrderedDict()
        self.max_keys = max_keys
        self.evicted: list[tuple[float, int]] = [(0.0, 0)] * slots

    async def hit(self, key: str, limit: RateLimit) -> int | None:
        now = time.monotonic()
        window = self.windows.get(key)
        if window is None:
            while len(self.windows) >= self.max_keys:
                self._evict(now)
            window = self._slot(key, now)
        ends, count = window
        if ends <= now:
            ends, count = now + limit.seconds, 0
            self.windows.pop(key, None)  # a new window goes to the back: the table stays oldest first
        self.windows[key] = (ends, count + 1)
        return math.ceil(ends - now) if count + 1 > limit.count else None

    def carry(self, key: str, count: int, seconds_left: int) -> None:
        """Hold `count` for `key`, its window ending in `seconds_left`: what Redis last said of it."""
        now = time.monotonic()
        if key not in self.windows:
            while len(self.windows) >= self.max_keys:
                self._evict(now)
        self.windows.pop(key, None)
        self.windows[key] = (now + seconds_left, count)

    def live(self, key: str) -> tuple[int, int] | None:
        """The count of `key`'s window and the seconds left in it, when one is running here."""
        now = time.monotonic()
        ends, count = self.windows.get(key) or self._slot(key, now)
        return (count, math.ceil(ends - now)) if ends > now else None

    def _evict(self, now: float) -> None:
        key, (ends, count) = self.windows.popitem(last=False)
        if ends > now:
            index = hash(key) % len(self.evicted)
            slot_ends, slot_count = self._slot(key, now)
            self.evicted[index] = (max(ends, slot_ends), max(count, slot_count))

    def _slot(self, key: str, now: float) -> tuple[float, int]:
        ends, count = self.evicted[hash(key) % len(self.evicted)]
        return (ends, count) if ends > now else (0.0, 0)

    async def close(self) -> None:
        self.windows.clear()


class RedisCounter:
    """Fixed windows shared through Redis, under `prefix` (tests use their own).

    While Redis is unreachable the worker counts in memory instead (failing open would switch the
    limits off exactly when someone knocked Redis over), says so once per outage, and tries Redis
    again every `retry_seconds`, so an outage does not add a timeout to every request.

    The counts cross the switch both ways (issue #20, item 12). Each count Redis returns is kept in
    the memory counter too, so an outage starts from the last counts this worker saw for the keys
    it used (not from zero: that gave an attacker who could knock Redis over a fresh budget). And
    when Redis answers again, a window the worker counted further in memory (during the outage, or
    because a restarted Redis lost its keys) keeps the higher count until it ends. A worker's hits
    of one key take turns (`_turns`): answers to concurrent hits could come back out of order, and a
    count lower than the one kept would look like a lost key and be raised by one each time.
    """

    def __init__(
        self, url: str, *, prefix: str = DEFAULT_REDIS_PREFIX, retry_seconds: float = REDIS_RETRY_SECONDS
    ) -> None:
        self.redis = redis_client(url)
        self.script = self.redis.register_script(HIT_SCRIPT)
        self.prefix = prefix
        self.fallback = MemoryCounter()
        self.retry_seconds = retry_seconds
        self.retry_at = 0.0
        self.unavailable = False
        self.turns: dict[str, tuple[asyncio.Lock, int]] = {}  # key: its lock, the hits holding it

    async def hit(self, key: str, limit: RateLimit) -> int | None:
        lock, holders = self.turns.get(key) or (asyncio.Lock(), 0)
        self.turns[key] = (lock, holders + 1)
        try:
            async with lock:
                return await self._hit(key, limit)
        finally:
            lock, holders = self.turns[key]
            if holders > 1:
                self.turns[key] = (lock, holders - 1)
            else:
                del self.turns[key]

    async def _hit(self, key: str, limit: RateLimit) -> int | None:
        from redis.exceptions import RedisError

        if time.monotonic() >= self.retry_at:
            try:
                count, ttl = await self.script(keys=[self.prefix + key], args=[limit.seconds])
            except RedisError as error:
                self._down(error)
            else:
                if self.unavailable:
                    self.unavailable = False
                    event(log, "throttle_restored")
                count, seconds_left = int(count), max(int(ttl), 1)
                local = self.fallback.live(key)
                if local is not None and local[0] >= count:  # counted further here while Redis was away
                    count, seconds_left = local[0] + 1, local[1]
                self.fallback.carry(key, count, seconds_left)
                return seconds_left if count > limit.count else None
        return await self.fallback.hit(key, limit)

    def _down(self, error: Exception) -> None:
        self.retry_at = time.monotonic() + self.retry_seconds
        if not self.unavailable:
            self.unavailable = True
            log.error("event=throttle_unavailable error=%s fallback=memory", type(error).__name__)

    async def close(self) -> None:
        await self.redis.aclose()
