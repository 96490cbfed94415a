"""The streams' counts in Redis under many streams: every open takes its place (none falls back to
the host's count for want of a connection), and the leases are renewed a slice at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from notes_service.config import RateLimit
from notes_service.http.counters import RedisCounter
from notes_service.live import counts
from notes_service.live.counts import LocalCounts, RedisCounts
from notes_service.live.hub import Stream
from tests.helpers import REDIS_URL, redis_prefix_of_test

AT_ONCE = 300  # above redis-py 8's default pool of 100 connections


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    with redis_prefix_of_test() as prefix:
        yield prefix


async def test_hundreds_of_streams_opening_at_once_each_take_a_place_in_redis(redis_prefix: str) -> None:
    shared = RedisCounts(REDIS_URL, redis_prefix, LocalCounts())
    try:
        streams = [Stream(user_id) for user_id in range(AT_ONCE)]
        taken = await asyncio.gather(*(shared.acquire(stream, limit=1) for stream in streams))
        assert all(taken)
        assert not shared.unavailable and shared.in_fallback == set()  # none counted on the host alone
        assert len(shared.members) == AT_ONCE
        again = await asyncio.gather(
            *(shared.acquire(Stream(user_id), limit=1) for user_id in range(AT_ONCE))
        )
        assert not any(again)  # each user's one place is taken, in Redis
    finally:
        await shared.close()


async def test_the_throttle_counts_hundreds_of_requests_at_once_in_redis(redis_prefix: str) -> None:
    counter = RedisCounter(REDIS_URL, prefix=redis_prefix)
    try:
        limit = RateLimit(AT_ONCE, 60)
        waits = await asyncio.gather(*(counter.hit("k", limit) for _ in range(AT_ONCE)))
        assert waits == [None] * AT_ONCE and not counter.unavailable
        assert int(await counter.redis.get(redis_prefix + "k")) == AT_ONCE
    finally:
        await counter.close()


async def test_leases_are_renewed_a_slice_at_a_time(
    redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(counts, "LEASE_SECONDS", 0.3)  # a renewal round every 0.1 s
    shared = RedisCounts(REDIS_URL, redis_prefix, LocalCounts())
    sizes: list[int] = []
    pipeline = shared.redis.pipeline

    def counted(*args: Any, **kwargs: Any) -> Any:
        pipe = pipeline(*args, **kwargs)
        execute = pipe.execute

        async def measured(*args: Any, **kwargs: Any) -> Any:
            sizes.append(len(pipe.command_stack))
            return await execute(*args, **kwargs)

        pipe.execute = measured
        return pipe

    monkeypatch.setattr(shared.redis, "pipeline", counted)
    streams = [Stream(user_id) for user_id in range(410)]
    for stream in streams:
        assert await shared.acquire(stream, limit=1)
    shared.start()
    try:
        for _ in range(100):
            if len(sizes) >= 3:
                break
            await asyncio.sleep(0.05)
        # Two commands per lease, 200 leases a slice: the round's three slices, the last of ten leases.
        assert sizes[:3] == [400, 400, 20]
        key = f"{redis_prefix}streams:{streams[-1].user_id}"
        assert await shared.redis.zscore(key, shared.members[streams[-1]]) is not None
    finally:
        await shared.close()
