"""`python -m bench.streams [--streams N]`: what the live stream holds and how fast it delivers (issue 22).

Two `notes-service serve --workers 2` on copies of one seeded SQLite database, 127.0.0.1: `streams`
holds N idle `GET /api/events` (one for each of N users, default 10,000), `quiet` holds none and is
the side-by-side baseline. One load generator (this process, uvloop, raw asyncio sockets: a stream
costs a transport and a small parser) opens them, raising its own open-files limit first. Measured:

(a) the summed PSS of supervisor + workers of `streams` at 0 streams (after a warm-up: a few reads
    and a few streams opened and closed, so that first-use costs are not counted per stream) and
    with N open, settled; the growth and the growth per stream;
(b) every stream's answer (200, text/event-stream), streams dropped during the run (any that ends),
    and the heartbeats: NOTES_EVENTS_HEARTBEAT_SECONDS is set short for the run and each stream's
    longest silence (no byte received) after all are open is recorded;
(c) with the streams open, `POST /api/notes` at a fixed rate (open loop) as the streams' users in
    turn: each note must arrive exactly once, on its author's stream and nowhere else; the latency
    is write acknowledged (the 201 read) → its event received, both on this process's clock;
(d) `GET /api/notes` c=64 (wrk) on `streams` with the N streams open over `quiet`, interleaved
    (streams, quiet, …), per-round ratio; first a control round pair before any stream is open;
(e) a full sync of 10,000 notes through notes_client (`change_pages` of 500, and `Mirror.sync`
    into a new SQLite file), on `quiet` and on `streams` with the streams open.

The load generator runs on the same 2 cores: its CPU time is reported beside the figures, with the
servers' and the whole machine's. Every server is stopped by its PID on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import orjson

from . import clients, results, seed, servers
from .commits import machine_busy_seconds, run_wrk, server_cpu_seconds
from .wrk import Load

PASSWORD_ROUNDS = 4
SYNC_NOTES = 10_000
OPENING_AT_ONCE = 200  # streams being opened at the same time
PSS_TARGET_MIB = 200.0
PER_STREAM_TARGET_KIB = 20.0


@dataclass
class Users:
    """The seeded accounts: stream users 1..N, the GET reader, the 10,000-note sync user."""

    tokens: list[str]  # index i: user id i + 1
    reader: str
    sync: str


def seed_database(path: Path, streams: int) -> Users:
    """N users with a token each (no notes), a reader with 20 notes, a user with SYNC_NOTES notes,
    straight into the migrated schema, numbered as the feed's migration numbers existing notes."""
    password_hash = seed.bcrypt_sha256(PASSWORD_ROUNDS).hash(secrets.token_urlsafe(12))
    tokens = ["nts_" + secrets.token_urlsafe(32) for _ in range(streams + 2)]
    reader_id, sync_id = streams + 1, streams + 2
    users, api_tokens = [], []
    for index, token in enumerate(tokens):
        user_id = index + 1
        name = f"stream{user_id}" if user_id <= streams else ("reader" if user_id == reader_id else "sync")
        users.append((user_id, name, name, f"{name}@bench.example", password_hash, True, seed.EPOCH))
        api_tokens.append(
            (user_id, "bench", hashlib.sha256(token.encode()).hexdigest(), seed.EPOCH, None, None)
        )
    notes = []
    for author, count in ((reader_id, seed.READER_NOTES), (sync_id, SYNC_NOTES)):
        for index in range(count):
            created = seed.EPOCH - timedelta(seconds=index)
            notes.append((f"Note {index}", seed.content(index), index % 10 == 3, author, created, created))
    seed._sqlite_insert(
        path,
        {
            "users": (
                ["id", "username", "username_key", "email", "password_hash", "is_active", "created_at"],
                users,
            ),
            "api_tokens": (
                ["user_id", "name", "token_digest", "created_at", "last_used_at", "expires_at"],
                api_tokens,
            ),
            "notes": (["title", "content", "is_pinned", "author_id", "created_at", "updated_at"], notes),
        },
    )
    seed.number_changes_sqlite(path)
    return Users(tokens[:streams], tokens[streams], tokens[streams + 1])


class StreamHolder(asyncio.Protocol):
    """One `GET /api/events` held open: its status, the events' note ids with when they arrived,
    its longest silence since `watch_gaps`, and whether it ended."""

    def __init__(self, request: bytes, ready: asyncio.Future[int], fleet: Fleet, user: int) -> None:
        self.request = request
        self.ready = ready
        self.fleet = fleet
        self.user = user
        self.transport: asyncio.Transport | None = None
        self.head = b""
        self.raw = bytearray()
        self.chunk_left = 0
        self.text = b""
        self.status = 0
        self.last = 0.0
        self.longest_gap = 0.0
        self.heartbeats = 0
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass of it
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        if self.fleet.watching and self.last:
            self.longest_gap = max(self.longest_gap, now - self.last)
        self.last = now
        if not self.status:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data = self.head[:end], self.head[end + 4 :]
            self.status = int(head.split(b" ", 2)[1])
            lowered = head.lower()
            if self.status != 200 or b"text/event-stream" not in lowered or b"chunked" not in lowered:
                self.ready.set_result(self.status or -1)
                return
            self.ready.set_result(200)
        self.raw += data
        self.text += self._unchunk()
        while (end := self.text.find(b"\n\n")) >= 0:
            block, self.text = self.text[:end], self.text[end + 2 :]
            if block.startswith(b":"):
                self.heartbeats += 1
            elif b"\nevent: note\n" in block or block.startswith(b"event: note\n"):
                data_line = block[block.index(b"data: ") + 6 :].split(b"\n", 1)[0]
                self.fleet.received(self.user, orjson.loads(data_line)["id"], now)
            elif b"event:" in block:
                self.fleet.other_events += 1

    def _unchunk(self) -> bytes:
        out = bytearray()
        while True:
            if self.chunk_left == 0:
                line_end = self.raw.find(b"\r\n")
                if line_end < 0:
                    break
                if line_end == 0:  # the CRLF after a chunk's data
                    del self.raw[:2]
                    continue
                size = int(bytes(self.raw[:line_end]).split(b";")[0], 16)
                del self.raw[: line_end + 2]
                if size == 0:
                    break
                self.chunk_left = size
            taken = min(self.chunk_left, len(self.raw))
            if taken == 0:
                break
            out += self.raw[:taken]
            del self.raw[:taken]
            self.chunk_left -= taken
        return bytes(out)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_result(-1)
        if not self.closing:
            self.fleet.dropped.append((self.user, time.monotonic(), repr(exc)))

    def close(self) -> None:
        self.closing = True
        if self.transport is not None:
            self.transport.close()


@dataclass
class Fleet:
    """Every stream held, and what arrived on them."""

    streams: list[StreamHolder] = field(default_factory=list)
    refused: dict[int, int] = field(default_factory=dict)  # status -> count
    dropped: list[tuple[int, float, str]] = field(default_factory=list)
    arrivals: dict[tuple[int, int], list[float]] = field(default_factory=dict)  # (user, note id) -> times
    other_events: int = 0
    watching: bool = False

    def received(self, user: int, note_id: int, when: float) -> None:
        self.arrivals.setdefault((user, note_id), []).append(when)

    def watch_gaps(self) -> None:
        for stream in self.streams:
            stream.longest_gap = 0.0
        self.watching = True

    def gaps(self, heartbeat: float, started: float) -> dict[str, Any]:
        """Each stream's longest silence since `started` (the last call), then start again."""
        gaps = sorted(stream.longest_gap for stream in self.streams)
        for stream in self.streams:
            stream.longest_gap = 0.0
        return {
            "seconds": round(time.monotonic() - started, 1),
            "longest_silence_s": {
                key: round(value / 1000, 2)
                for key, value in _percentiles([gap * 1000 for gap in gaps]).items()
            },
            "silent_over_1.5x_heartbeat": sum(1 for gap in gaps if gap > 1.5 * heartbeat),
        }


async def open_streams(port: int, tokens: list[str], fleet: Fleet) -> float:
    """Open one stream per token, OPENING_AT_ONCE at a time; the seconds it took."""
    loop = asyncio.get_running_loop()
    limit = asyncio.Semaphore(OPENING_AT_ONCE)
    started = time.monotonic()

    async def one(user: int, token: str) -> None:
        async with limit:
            request = (
                f"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
                "Accept: text/event-stream\r\n\r\n"
            ).encode()
            ready: asyncio.Future[int] = loop.create_future()
            holder = StreamHolder(request, ready, fleet, user)
            try:
                await loop.create_connection(lambda: holder, "127.0.0.1", port)
                status = await asyncio.wait_for(ready, 60)
            except (OSError, TimeoutError) as error:
                fleet.refused[-1] = fleet.refused.get(-1, 0) + 1
                say(f"stream of user {user} not opened: {error!r}")
                holder.close()
                return
            if status == 200:
                fleet.streams.append(holder)
            else:
                fleet.refused[status] = fleet.refused.get(status, 0) + 1
                holder.close()

    await asyncio.gather(*(one(index + 1, token) for index, token in enumerate(tokens)))
    return time.monotonic() - started


async def write_notes(url: str, tokens: list[str], rate: float, seconds: float) -> list[dict[str, Any]]:
    """POST /api/notes at `rate` a second for `seconds`, as tokens[0], tokens[1], … in turn (open loop:
    each write starts on its schedule whether or not earlier ones have finished)."""
    writes: list[dict[str, Any]] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits, trust_env=False) as http:

        async def one(number: int) -> None:
            user = number % len(tokens) + 1
            record: dict[str, Any] = {"user": user, "sent": time.monotonic()}
            try:
                response = await http.post(
                    "/api/notes",
                    json={"title": f"Live {number}", "content": "A note written while streams are open."},
                    headers={"Authorization": f"Bearer {tokens[user - 1]}"},
                )
                record["acked"] = time.monotonic()
                record["status"] = response.status_code
                if response.status_code == 201:
                    record["id"] = response.json()["id"]
            except httpx.HTTPError as error:
                record["status"] = repr(error)
            writes.append(record)

        start = time.monotonic()
        tasks = []
        for number in range(int(rate * seconds)):
            delay = start + number / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(number)))
        await asyncio.gather(*tasks)
    return writes


def delivery(writes: list[dict[str, Any]], fleet: Fleet) -> dict[str, Any]:
    """Exactly once: each acknowledged note on its author's stream once; nothing else arrived."""
    latencies, from_sent, missing, twice = [], [], 0, 0
    expected = set()
    for write in writes:
        if "id" not in write:
            continue
        key = (write["user"], write["id"])
        expected.add(key)
        arrived = fleet.arrivals.get(key, [])
        if not arrived:
            missing += 1
            continue
        twice += len(arrived) - 1
        latencies.append((arrived[0] - write["acked"]) * 1000)
        from_sent.append((arrived[0] - write["sent"]) * 1000)
    unexpected = sum(len(times) for key, times in fleet.arrivals.items() if key not in expected)
    latencies.sort()
    from_sent.sort()
    acked = [write for write in writes if "acked" in write]
    span = max((w["acked"] for w in acked), default=0.0) - min((w["sent"] for w in writes), default=0.0)
    return {
        "acknowledged_per_second": round(len(acked) / span, 1) if span > 0 else 0.0,
        "writes": len(writes),
        "acknowledged": len(expected),
        "failed_writes": len(writes) - len(expected),
        "delivered": len(latencies),
        "missing": missing,
        "delivered_twice": twice,
        "unexpected_events": unexpected,
        "other_events": fleet.other_events,
        "latency_ms": _percentiles(latencies),
        "latency_from_send_ms": _percentiles(from_sent),
        "acknowledge_ms": _percentiles(
            sorted((w["acked"] - w["sent"]) * 1000 for w in writes if "acked" in w)
        ),
        "event_before_ack": sum(1 for latency in latencies if latency < 0),
    }


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}

    def at(share: float) -> float:
        return round(values[min(len(values) - 1, int(share * len(values)))], 1)

    return {"p50": at(0.5), "p90": at(0.9), "p99": at(0.99), "max": round(values[-1], 1)}


async def full_sync(url: str, token: str, scratch: Path) -> dict[str, float]:
    """Seconds for every note through `change_pages` (500 a page) and through a new `Mirror.sync`."""
    from notes_client import Mirror, NotesClient

    async with NotesClient(url, token) as client:
        started = time.monotonic()
        changes = 0
        async for page in client.change_pages(None, limit=500):
            changes += len(page.changes)
        paged = time.monotonic() - started
        path = scratch / f"mirror-{secrets.token_hex(4)}.db"
        started = time.monotonic()
        async with Mirror(client, path) as mirror:
            applied = await mirror.sync()
            mirrored = len(await mirror.notes())
        synced = time.monotonic() - started
    if changes != SYNC_NOTES or mirrored != SYNC_NOTES:
        raise RuntimeError(f"full sync: {changes} changes, {mirrored} mirrored, not {SYNC_NOTES} ({applied})")
    return {"change_pages_seconds": round(paged, 3), "mirror_sync_seconds": round(synced, 3)}


async def get_ratio(
    streams: servers.Server, quiet: servers.Server, reader: str, rounds: int, seconds: float
) -> list[dict[str, Any]]:
    """GET /api/notes c=64 on `streams`, then `quiet`, round after round; wrk's and the servers' CPU."""
    header = clients.bearer(reader)
    runs = []
    for round_number in range(1, rounds + 1):
        record: dict[str, Any] = {"round": round_number}
        for server in (streams, quiet):
            cpu = server_cpu_seconds(server)
            busy = machine_busy_seconds()
            result, wrk_cpu, wall = await asyncio.to_thread(
                run_wrk, Load(f"{server.url}/api/notes", 64, seconds, (header,))
            )
            record[server.name] = {
                **result.as_dict(),
                "wrk_cores": round(wrk_cpu / wall, 3),
                "server_cores": round((server_cpu_seconds(server) - cpu) / wall, 3),
                "machine_cores": round((machine_busy_seconds() - busy) / wall, 3),
            }
        record["ratio"] = round(
            record[streams.name]["requests_per_second"] / record[quiet.name]["requests_per_second"], 3
        )
        busy, idle = record[streams.name], record[quiet.name]
        if busy["server_cores"] > 0 and idle["server_cores"] > 0:
            record["per_cpu_ratio"] = round(
                (busy["requests_per_second"] / busy["server_cores"])
                / (idle["requests_per_second"] / idle["server_cores"]),
                3,
            )
        runs.append(record)
        say(
            f"GET /api/notes c=64 round {round_number}: {streams.name} "
            f"{record[streams.name]['requests_per_second']:,.0f} req/s, {quiet.name} "
            f"{record[quiet.name]['requests_per_second']:,.0f} req/s, ratio {record['ratio']}"
        )
    return runs


def self_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def raise_open_files(needed: int) -> dict[str, int]:
    """The load generator's soft open-files limit up to the hard one (it needs one per stream)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, needed)
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return {"before": soft, "now": resource.getrlimit(resource.RLIMIT_NOFILE)[0], "hard": hard}


def open_files_of(pid: int) -> tuple[int, int]:
    """The soft open-files limit of a process and how many it has open."""
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft = int(line.split()[3])
    return soft, len(os.listdir(f"/proc/{pid}/fd"))


async def bench(options: argparse.Namespace) -> dict[str, Any]:
    outcome: dict[str, Any] = {"streams_asked": options.streams, "notes": []}
    outcome["load_generator_open_files"] = raise_open_files(options.streams + 1000)
    with tempfile.TemporaryDirectory(prefix="notes-bench-streams-") as scratch_name:
        scratch = Path(scratch_name)
        env = servers.service_env(
            f"sqlite+aiosqlite:///{scratch / 'streams' / 'notes.db'}",
            secrets.token_urlsafe(48),
            PASSWORD_ROUNDS,
        )
        env["NOTES_EVENTS_HEARTBEAT_SECONDS"] = f"{options.heartbeat:g}"
        env["PYTHONPATH"] = str(servers.ROOT)
        say(f"seeding {options.streams:,} stream users, a reader and a {SYNC_NOTES:,}-note user")
        servers.migrate(scratch / "streams", env)
        users = seed_database(scratch / "streams" / "notes.db", options.streams)
        (scratch / "quiet").mkdir()
        shutil.copy(scratch / "streams" / "notes.db", scratch / "quiet" / "notes.db")
        quiet_env = dict(env, NOTES_DATABASE_URL=f"sqlite+aiosqlite:///{scratch / 'quiet' / 'notes.db'}")
        held = servers.service("streams", scratch / "streams", env)
        quiet = servers.service("quiet", scratch / "quiet", quiet_env)
        fleet = Fleet()
        try:
            for server in (held, quiet):
                server.launch()
            for server in (held, quiet):
                await asyncio.to_thread(server.wait_ready)
            await measure(options, outcome, users, held, quiet, fleet, scratch)
        finally:
            for stream in fleet.streams:
                stream.close()
            for server in (held, quiet):
                server.stop()
            log = held.log()
            outcome["server_log_open_files_lines"] = [
                line for line in log.splitlines() if "open files" in line.lower() or "nofile" in line.lower()
            ]
            outcome["server_log_errors"] = [line for line in log.splitlines() if "error" in line.lower()][:20]
    return outcome


async def measure(
    options: argparse.Namespace,
    outcome: dict[str, Any],
    users: Users,
    held: servers.Server,
    quiet: servers.Server,
    fleet: Fleet,
    scratch: Path,
) -> None:
    cpu_start, busy_start, wall_start = self_cpu(), machine_busy_seconds(), time.monotonic()
    # Warm-up: both workers serve reads and open and close a few streams before the baseline.
    outcome["control_get"] = await get_ratio(held, quiet, users.reader, 1, 2)
    warm = Fleet()
    await open_streams(held.port, users.tokens[:20], warm)
    await asyncio.sleep(1)
    for stream in warm.streams:
        stream.close()
    await asyncio.sleep(2)
    outcome["workers_open_files_before"] = {pid: open_files_of(pid) for pid in held.workers()}
    zero = held.memory()
    say(f"0 streams: PSS summed {zero['tree_pss_mib']} MiB")

    say(f"opening {options.streams:,} streams")
    opening_cpu = self_cpu()
    outcome["open_seconds"] = round(await open_streams(held.port, users.tokens, fleet), 1)
    outcome["open_load_generator_cpu_seconds"] = round(self_cpu() - opening_cpu, 1)
    outcome["streams_open"] = len(fleet.streams)
    outcome["refused"] = fleet.refused
    say(f"{len(fleet.streams):,} streams open in {outcome['open_seconds']} s; refused {fleet.refused}")
    await asyncio.sleep(options.heartbeat + 2)
    fleet.watch_gaps()
    watch_start = time.monotonic()
    full = held.memory()
    outcome["workers_open_files"] = {pid: open_files_of(pid) for pid in held.workers()}
    growth = full["tree_pss_mib"] - zero["tree_pss_mib"]
    outcome["pss"] = {
        "zero_streams_mib": zero["tree_pss_mib"],
        "open_mib": full["tree_pss_mib"],
        "growth_mib": round(growth, 1),
        "per_stream_kib": round(growth * 1024 / max(1, len(fleet.streams)), 2),
        "workers_private_mib_zero": zero["workers_private_mib"],
        "workers_private_mib_open": full["workers_private_mib"],
        "quiet_mib": quiet.memory()["tree_pss_mib"],
    }
    say(f"PSS {json.dumps(outcome['pss'])}")

    # What N idle streams cost in CPU (heartbeats, the per-worker poll and sign-in checks), by the
    # servers' own CPU time over a quiet spell, `quiet` beside it.
    idle = {server.name: server_cpu_seconds(server) for server in (held, quiet)}
    idle_started = time.monotonic()
    await asyncio.sleep(options.idle_seconds)
    idle_wall = time.monotonic() - idle_started
    outcome["idle_cores"] = {
        server.name: round((server_cpu_seconds(server) - idle[server.name]) / idle_wall, 3)
        for server in (held, quiet)
    }
    say(f"idle CPU over {idle_wall:.0f} s, cores: {outcome['idle_cores']}")
    outcome["silences"] = {}
    phase = time.monotonic()
    outcome["get"] = await get_ratio(held, quiet, users.reader, options.rounds, options.seconds)
    outcome["get_ratio_median"] = statistics.median(run["ratio"] for run in outcome["get"])
    per_cpu = [run["per_cpu_ratio"] for run in outcome["get"] if "per_cpu_ratio" in run]
    outcome["get_per_cpu_ratio_median"] = statistics.median(per_cpu) if per_cpu else None

    outcome["silences"]["idle_and_get"] = fleet.gaps(options.heartbeat, phase)
    say(f"silences: {outcome['silences']}")
    phase = time.monotonic()
    say(f"writing {options.rate:g} notes/s for {options.write_seconds:g} s over the streams' users")
    writing_cpu, writing_busy, writing_wall = self_cpu(), machine_busy_seconds(), time.monotonic()
    held_cpu = server_cpu_seconds(held)
    active = sorted({stream.user for stream in fleet.streams})
    writes = await write_notes(
        held.url, [users.tokens[user - 1] for user in active], options.rate, options.write_seconds
    )
    # write_notes numbers users 1..len(active): map them back to the stream users' ids.
    for write in writes:
        write["user"] = active[write["user"] - 1]
    await asyncio.sleep(3)  # the last events' way back
    wall = time.monotonic() - writing_wall
    outcome["writes"] = {
        **delivery(writes, fleet),
        "rate_asked": options.rate,
        "load_generator_cores": round((self_cpu() - writing_cpu) / wall, 3),
        "server_cores": round((server_cpu_seconds(held) - held_cpu) / wall, 3),
        "machine_cores": round((machine_busy_seconds() - writing_busy) / wall, 3),
    }
    say(f"writes: {json.dumps(outcome['writes'])}")
    outcome["silences"]["writes"] = fleet.gaps(options.heartbeat, phase)
    phase = time.monotonic()
    outcome["pss_after_writes_mib"] = held.memory()["tree_pss_mib"]

    outcome["sync_quiet"] = [await full_sync(quiet.url, users.sync, scratch) for _ in range(3)]
    outcome["sync_streams_open"] = [await full_sync(held.url, users.sync, scratch)]
    say(f"full sync: quiet {outcome['sync_quiet']}, streams open {outcome['sync_streams_open']}")

    remaining = options.hold - (time.monotonic() - watch_start)
    if remaining > 0:
        say(f"holding the streams {remaining:.0f} s more")
        await asyncio.sleep(remaining)
    held_seconds = time.monotonic() - watch_start
    outcome["silences"]["sync_and_idle"] = fleet.gaps(options.heartbeat, phase)
    beats = [stream.heartbeats for stream in fleet.streams]
    outcome["hold"] = {
        "seconds": round(held_seconds, 1),
        "heartbeat_seconds": options.heartbeat,
        "dropped": len(fleet.dropped),
        "dropped_first": fleet.dropped[:5],
        "still_open": sum(
            1 for stream in fleet.streams if not stream.transport or not stream.transport.is_closing()
        ),
        "silences": outcome["silences"],
        "heartbeats_per_stream": {"min": min(beats, default=0), "median": statistics.median(beats or [0])},
        "heartbeats_expected_at_least": int(held_seconds / options.heartbeat) - 1,
    }
    say(f"hold: {json.dumps(outcome['hold'])}")
    outcome["pss_at_end_mib"] = held.memory()["tree_pss_mib"]
    wall = time.monotonic() - wall_start
    outcome["load_generator"] = {
        "cpu_seconds": round(self_cpu() - cpu_start, 1),
        "cores": round((self_cpu() - cpu_start) / wall, 3),
        "machine_cores": round((machine_busy_seconds() - busy_start) / wall, 3),
        "wall_seconds": round(wall, 1),
    }


def render(outcome: dict[str, Any]) -> str:
    pss, writes, hold = outcome["pss"], outcome["writes"], outcome["hold"]
    quiet_sync = statistics.median(run["change_pages_seconds"] for run in outcome["sync_quiet"])
    quiet_mirror = statistics.median(run["mirror_sync_seconds"] for run in outcome["sync_quiet"])
    lines = [
        f"## Live streams: {outcome['streams_open']:,} of {outcome['streams_asked']:,} open "
        f"(serve --workers 2, SQLite), opened in {outcome['open_seconds']} s; refused {outcome['refused']}",
        "",
        "| figure | value | target |",
        "|---|---|---|",
        f"| PSS summed, 0 → N streams, MiB | {pss['zero_streams_mib']} → {pss['open_mib']} "
        f"(+{pss['growth_mib']}) | growth ≤ {PSS_TARGET_MIB:g} |",
        f"| PSS growth per stream, KiB | {pss['per_stream_kib']} | ≤ {PER_STREAM_TARGET_KIB:g} |",
        f"| streams dropped over {hold['seconds']} s | {hold['dropped']} | 0 |",
        *(
            f"| longest silence per stream, {name} ({phase['seconds']} s; heartbeat "
            f"{hold['heartbeat_seconds']:g} s), s; streams silent > 1.5 × heartbeat | "
            f"{phase['longest_silence_s']}; {phase['silent_over_1.5x_heartbeat']} | ≈ heartbeat; 0 |"
            for name, phase in hold["silences"].items()
        ),
        f"| writes at {writes['rate_asked']:g}/s: acknowledged / delivered / missing / twice / unexpected | "
        f"{writes['acknowledged']} / {writes['delivered']} / {writes['missing']} / "
        f"{writes['delivered_twice']} / {writes['unexpected_events']} | all once |",
        f"| writes acknowledged a second (asked {writes['rate_asked']:g}) | "
        f"{writes['acknowledged_per_second']} | {writes['rate_asked']:g} |",
        f"| write acknowledged → event received, ms ({writes['event_before_ack']} events read before "
        f"their 201) | {writes['latency_ms']} | p50 ≤ 20, p99 ≤ 100 |",
        f"| write sent → event received, ms | {writes['latency_from_send_ms']} | |",
        f"| GET /api/notes c=64 with streams / without (median; rounds) | {outcome['get_ratio_median']} "
        f"({', '.join(str(run['ratio']) for run in outcome['get'])}); control before any stream: "
        f"{outcome['control_get'][0]['ratio']} | ≥ 0.85 |",
        f"| same, per CPU second of each server's own processes (median; rounds) | "
        f"{outcome['get_per_cpu_ratio_median']} "
        f"({', '.join(str(run.get('per_cpu_ratio')) for run in outcome['get'])}) | |",
        f"| servers' CPU while idle, cores (streams; quiet) | {outcome['idle_cores']} | |",
        f"| full sync of {SYNC_NOTES:,} notes (change_pages of 500 / Mirror.sync), s, median of 3 | "
        f"{quiet_sync} / {quiet_mirror}; with the streams open {outcome['sync_streams_open'][0]} | ≤ 2 |",
        "",
        f"Load generator: {outcome['load_generator']}; while writing: {writes['load_generator_cores']} cores "
        f"(servers {writes['server_cores']}, machine {writes['machine_cores']}).",
        f"Workers' open-files limit and open files: {outcome['workers_open_files']}; the service's log on "
        f"open files: {outcome['server_log_open_files_lines'] or 'nothing'}.",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.streams", description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=10_000, help="streams held open, one per user")
    parser.add_argument(
        "--heartbeat", type=float, default=5.0, help="NOTES_EVENTS_HEARTBEAT_SECONDS for the run"
    )
    parser.add_argument(
        "--rate", type=float, default=200.0, help="writes a second while the streams are open"
    )
    parser.add_argument("--write-seconds", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3, help="GET /api/notes rounds with/without streams")
    parser.add_argument("--seconds", type=float, default=3.0, help="each GET wrk run")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="servers' idle CPU measured over")
    parser.add_argument("--hold", type=float, default=120.0, help="seconds the streams are watched, at least")
    options = parser.parse_args()
    import uvloop  # the service's own loop (its `speed` extra): 10,000 sockets cost less CPU on it

    started = time.monotonic()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        outcome = runner.run(bench(options))
    outcome.update(
        command=" ".join(["python -m bench.streams", *sys.argv[1:]]),
        elapsed_seconds=round(time.monotonic() - started, 1),
        machine=results.machine(),
    )
    results.RESULTS_DIR.mkdir(exist_ok=True)
    path = results.RESULTS_DIR / f"streams-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(outcome, indent=2, default=str) + "\n")
    if "hold" in outcome:
        print(render(outcome))
    print(f"\n{outcome['elapsed_seconds']:.0f} s; raw results: {path}")
    return 0


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
