"""The throttle's counters: bounded in memory, shared through Redis (5 or later), and never failing open."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from notes_service import create_app
from notes_service.config import RateLimit
from notes_service.http.counters import MemoryCounter, RedisCounter
from tests.helpers import REDIS_URL, app_settings, redis_prefix_of_test
from tests.http.test_throttle import token_request
from tests.server import free_port

# Every command the Redis counter may send, with its argument count (None: any), all in Redis 5.
# HELLO (6.0), EXPIRE ... NX (7.0), GETEX (6.2) and the like are not here.
REDIS_5_COMMANDS = {
    "SELECT": 1,
    "EVALSHA": None,
    "EVAL": None,
    "SCRIPT": None,
    "INCR": 1,
    "INCRBY": 2,
    "TTL": 1,
    "EXPIRE": 2,
    "MULTI": 0,
    "EXEC": 0,
}


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards (the database is shared)."""
    with redis_prefix_of_test() as prefix:
        yield prefix


async def test_memory_counter_window_resets() -> None:
    counter = MemoryCounter()
    limit = RateLimit(2, 60)
    assert [await counter.hit("k", limit) for _ in range(2)] == [None, None]
    assert await counter.hit("k", limit) == 60
    counter.windows["k"] = (0.0, 99)  # the window ended
    assert await counter.hit("k", limit) is None


async def test_memory_counter_holds_at_most_max_keys() -> None:
    counter = MemoryCounter(max_keys=100)
    limit = RateLimit(3, 60)
    for number in range(5_000):
        await counter.hit(f"flood-{number}", limit)
        assert len(counter.windows) <= 100


async def test_memory_counter_drops_ended_windows_before_live_ones() -> None:
    counter = MemoryCounter(max_keys=100)
    limit = RateLimit(3, 60)
    for number in range(100):
        await counter.hit(f"key-{number}", limit)
    for number in range(50):  # time passes: the oldest windows end first
        counter.windows[f"key-{number}"] = (0.0, 1)
    for number in range(50):
        await counter.hit(f"new-{number}", limit)
    assert set(counter.windows) == {f"key-{n}" for n in range(50, 100)} | {f"new-{n}" for n in range(50)}
    assert set(counter.evicted) == {(0.0, 0)}  # no live count had to be folded away


async def test_a_flood_of_new_keys_resets_no_count() -> None:
    """Pushed out of a full table, a key keeps its count: flooding buys an attacker no guesses."""
    counter = MemoryCounter(max_keys=100)
    limit = RateLimit(3, 60)
    assert [await counter.hit("locked", limit) for _ in range(3)] == [None] * 3
    assert await counter.hit("locked", limit) is not None
    assert [await counter.hit("half-spent", limit) for _ in range(2)] == [None] * 2
    # Flood keys that share a slot with ours would carry our counts on (the documented price of the
    # slot table, a spurious 429); they are left out so that this test sees only the pushing out.
    slots = len(counter.evicted)
    ours = {hash("locked") % slots, hash("half-spent") % slots}
    flood = [key for n in range(1_050) if hash(key := f"flood-{n}") % slots not in ours][:1_000]
    for key in flood:
        await counter.hit(key, limit)
    assert "locked" not in counter.windows and "half-spent" not in counter.windows  # pushed out
    assert await counter.hit("locked", limit) is not None
    assert await counter.hit("half-spent", limit) is None  # its third attempt
    assert await counter.hit("half-spent", limit) is not None


async def test_redis_counter_is_shared_between_workers(redis_prefix: str) -> None:
    """Two counters (two workers, or two hosts) on one Redis spend one budget."""
    first = RedisCounter(REDIS_URL, prefix=redis_prefix)
    second = RedisCounter(REDIS_URL, prefix=redis_prefix)
    limit = RateLimit(3, 30)
    results = [await counter.hit("k", limit) for counter in (first, second, first)]
    assert results == [None, None, None]
    wait = await second.hit("k", limit)
    assert wait is not None and 1 <= wait <= 30
    assert 0 < await first.redis.ttl(redis_prefix + "k") <= 30  # keys expire by themselves
    await first.close()
    await second.close()


async def test_redis_counter_gives_a_key_left_without_expiry_one(redis_prefix: str) -> None:
    counter = RedisCounter(REDIS_URL, prefix=redis_prefix)
    await counter.redis.set(redis_prefix + "k", 5)  # no TTL: it would lock the key forever
    assert await counter.hit("k", RateLimit(3, 30)) is not None
    assert 0 < await counter.redis.ttl(redis_prefix + "k") <= 30
    await counter.close()


async def test_redis_counter_sends_only_commands_redis_5_has(redis_prefix: str) -> None:
    """Everything the counter makes Redis run (its script's commands too), seen through MONITOR."""
    from redis.asyncio import Redis

    watcher = Redis.from_url(REDIS_URL)
    counter = RedisCounter(REDIS_URL, prefix=redis_prefix)
    done = redis_prefix + "done"
    seen: list[dict[str, str]] = []
    async with watcher.monitor() as monitor:

        async def collect() -> None:
            async for command in monitor.listen():
                seen.append(command)
                if done in command["command"]:
                    return

        collecting = asyncio.create_task(collect())
        await asyncio.sleep(0.2)  # MONITOR is on before the counter connects
        await counter.redis.script_flush()  # so the script is loaded as on a fresh server
        for _ in range(3):
            await counter.hit("k", RateLimit(2, 30))
        await counter.redis.get(done)
        await asyncio.wait_for(collecting, 10)
    await watcher.aclose()
    await counter.close()
    # The counter's connections are those that named its keys; Lua's commands name them too.
    ports = {c["client_port"] for c in seen if redis_prefix in c["command"] and c["client_port"]}
    ours = [c["command"] for c in seen if c["client_port"] in ports or redis_prefix in c["command"]]
    ours = [c for c in ours if not c.startswith("SCRIPT FLUSH") and done not in c]
    assert any(c.startswith("EXPIRE ") for c in ours)  # the script's commands are in view
    for command in ours:
        name, *arguments = command.split()
        assert name.upper() in REDIS_5_COMMANDS, f"{command!r} needs a newer Redis"
        count = REDIS_5_COMMANDS[name.upper()]
        assert count is None or len(arguments) == count, f"{command!r} needs a newer Redis"


async def test_redis_down_counts_in_memory_and_says_so_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="notes_service.http.throttle")
    counter = RedisCounter(f"redis://127.0.0.1:{free_port()}/0", retry_seconds=0)  # retries every hit
    limit = RateLimit(3, 60)
    assert [await counter.hit("k", limit) for _ in range(3)] == [None] * 3
    assert await counter.hit("k", limit) == 60  # still throttled
    lines = [r.getMessage() for r in caplog.records if "event=throttle_" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("event=throttle_unavailable")
    await counter.close()


class RedisProxy:
    """The test's own way to Redis: a TCP forwarder on a free port, to the real server, that the test
    opens and closes (closing drops every connection through it), so Redis "goes away" for the
    counter pointed at it alone. The machine's Redis is never stopped."""

    def __init__(self) -> None:
        real = urlsplit(REDIS_URL)
        self.host, self.port = real.hostname or "127.0.0.1", real.port or 6379
        self.url = f"redis://127.0.0.1:{free_port()}/{real.path.strip('/') or '0'}"
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def open(self) -> None:
        port = urlsplit(self.url).port
        self.server = await asyncio.start_server(self._forward, "127.0.0.1", port)

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            for writer in self.writers:
                writer.close()
            await self.server.wait_closed()
            self.server, self.writers = None, []

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.port)
        self.writers += [writer, upstream_writer]

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def test_redis_back_is_used_again_and_logged(
    redis_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis behind a port that is closed, then forwarded to the real server: the outage ends."""
    caplog.set_level(logging.INFO, logger="notes_service.http.throttle")
    proxy = RedisProxy()
    counter = RedisCounter(proxy.url, prefix=redis_prefix, retry_seconds=0)
    limit = RateLimit(5, 60)
    assert await counter.hit("k", limit) is None  # down: counted in memory
    await proxy.open()
    try:
        assert await counter.hit("k", limit) is None
        assert await counter.redis.get(redis_prefix + "k") == b"1"  # counted in Redis again
    finally:
        await counter.close()
        await proxy.close()
    lines = [r.getMessage() for r in caplog.records if "event=throttle_" in r.getMessage()]
    assert [line.split()[0] for line in lines] == ["event=throttle_unavailable", "event=throttle_restored"]


async def test_an_outage_starts_from_the_counts_redis_last_gave(redis_prefix: str) -> None:
    """Issue #20, item 12: 3 tries counted in Redis, Redis goes away: 2 more, not 5, are accepted."""
    proxy = RedisProxy()
    await proxy.open()
    counter = RedisCounter(proxy.url, prefix=redis_prefix, retry_seconds=0)
    other_worker = RedisCounter(REDIS_URL, prefix=redis_prefix)
    limit = RateLimit(5, 60)
    try:
        assert await other_worker.hit("k", limit) is None  # counted in Redis, by another worker
        assert [await counter.hit("k", limit) for _ in range(2)] == [None, None]
        await proxy.close()
        assert [await counter.hit("k", limit) for _ in range(2)] == [None, None]  # in memory: 4, 5
        assert counter.unavailable
        wait = await counter.hit("k", limit)
        assert wait is not None and 55 <= wait <= 60
    finally:
        await counter.close()
        await other_worker.close()
        await proxy.close()


async def test_counts_made_during_an_outage_hold_when_redis_returns_empty(redis_prefix: str) -> None:
    """A Redis that comes back without the key (restarted, data lost) does not reset the window."""
    proxy = RedisProxy()
    counter = RedisCounter(proxy.url, prefix=redis_prefix, retry_seconds=0)
    limit = RateLimit(3, 60)
    try:
        assert [await counter.hit("k", limit) for _ in range(3)] == [None] * 3  # Redis down: in memory
        await proxy.open()
        wait = await counter.hit("k", limit)  # Redis says 1; this worker has seen 4
        assert wait is not None and 55 <= wait <= 60
        assert await counter.redis.get(redis_prefix + "k") == b"1"  # Redis was asked again
    finally:
        await counter.close()
        await proxy.close()


async def test_app_uses_redis_when_configured(database_url, redis_prefix) -> None:
    def worker():  # type: ignore[no-untyped-def]
        return create_app(app_settings(database_url, auth_rate_limit="2/60", redis_url=REDIS_URL))

    app, other_worker = worker(), worker()
    async with app.test_app(), other_worker.test_app():
        for each in (app, other_worker):
            assert isinstance(each.extensions["throttle"], RedisCounter)
            each.extensions["throttle"].prefix = redis_prefix  # this test's keys only
        email = f"{uuid.uuid4().hex[:8]}@example.com"
        a, b = app.test_client(), other_worker.test_client()
        assert (await a.post("/api/token", **token_request(email))).status_code == 401
        assert (await b.post("/api/token", **token_request(email))).status_code == 401
        assert (await a.post("/api/token", **token_request(email))).status_code == 429


async def test_with_redis_down_the_app_still_throttles(database_url, caplog) -> None:
    caplog.set_level(logging.INFO, logger="notes_service.http.throttle")
    down = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(app_settings(database_url, auth_rate_limit="3/60", redis_url=down))
    async with app.test_app():
        client = app.test_client()
        statuses = [(await client.post("/api/token", **token_request())).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    assert sum("event=throttle_unavailable" in r.getMessage() for r in caplog.records) == 1
