"""`python -m bench.stream_memory [--streams N]`: where the memory of an open live stream goes (issue 22).

One `notes-service serve --workers 1` (uvloop, hypercorn.toml: the production stack) on a seeded SQLite
database serves the app through `traced()` below, which lets this process ask the worker, by a
signal, to start tracemalloc and later to dump a snapshot and a census of its objects by type. Then:

1. the worker warms up (a few reads, a few streams opened and closed), is settled (`gc.collect`),
   and starts tracing; its memory is read from /proc (private = USS, and PSS);
2. N idle `GET /api/events` are opened (raw asyncio sockets, as bench/streams.py) and held a
   heartbeat long;
3. the worker dumps what was allocated since (and is still alive), and its objects by type again.

Printed: the worker's private memory growth per stream (with and without tracemalloc's own cost:
`--no-trace` measures it untraced), the traced bytes per stream by who allocated them (the innermost
frame's package: hypercorn, h11, quart, asyncio, notes_service, …, and the frame of ours or theirs
that asked), the biggest allocation sites with their tracebacks, and the objects per stream by type.
What tracemalloc does not see (uvloop's and libuv's C allocations, malloc's overhead and
fragmentation) is the difference between the private growth and the traced bytes.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import pickle
import secrets
import signal
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from . import servers
from .streams import PASSWORD_ROUNDS, Fleet, open_streams, raise_open_files, seed_database

TRACE_DIR = "BENCH_TRACE_DIR"
FRAMES = "BENCH_TRACE_FRAMES"
PACKAGES = (
    "notes_service",
    "hypercorn",
    "h11",
    "quart_auth",
    "quart_schema",
    "quart",
    "werkzeug",
    "sqlalchemy",
    "aiosqlite",
    "asyncio",
    "uvloop",
    "contextvars",
    "logging",
)


# --- in the worker -------------------------------------------------------------------------------


def traced() -> Any:
    """The service's app, in a worker that obeys SIGUSR1: `start` or `dump` (read from the file
    `command` in $BENCH_TRACE_DIR)."""
    from notes_service.asgi import app

    signal.signal(signal.SIGUSR1, _on_signal)
    return app


def _on_signal(_number: int, _frame: Any) -> None:
    folder = Path(os.environ[TRACE_DIR])
    command = (folder / "command").read_text().strip()
    gc.collect()
    if command == "start":
        (folder / "types-before.json").write_text(json.dumps(census()))
        tracemalloc.start(int(os.environ.get(FRAMES, "16")))
    elif command == "census":
        (folder / "types-before.json").write_text(json.dumps(census()))
    elif command == "dump":
        if tracemalloc.is_tracing():
            snapshot = tracemalloc.take_snapshot()
            tracemalloc.stop()
            with (folder / "snapshot.pickle").open("wb") as file:
                pickle.dump(snapshot, file)
        (folder / "types-after.json").write_text(json.dumps(census()))
    (folder / "done").write_text(command)


def census() -> dict[str, list[int]]:
    """Live objects the garbage collector tracks, by type: [count, sizeof sum]. Also each
    `dict` and `list` apart (they are most of the bytes), which gc tracks too."""
    counts: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for thing in gc.get_objects():
        kind = type(thing)
        entry = counts[f"{kind.__module__}.{kind.__qualname__}"]
        entry[0] += 1
        entry[1] += sys.getsizeof(thing)
    return dict(counts)


# --- in the benchmark ----------------------------------------------------------------------------


class Worker:
    """The one worker of the `serve` we started, told what to do through the trace folder."""

    def __init__(self, server: servers.Server, folder: Path) -> None:
        self.server = server
        self.folder = folder

    @property
    def pid(self) -> int:
        [pid] = self.server.workers()
        return pid

    async def ask(self, command: str, patience: float = 300) -> None:
        done = self.folder / "done"
        done.unlink(missing_ok=True)
        (self.folder / "command").write_text(command)
        os.kill(self.pid, signal.SIGUSR1)
        deadline = time.monotonic() + patience
        while not done.exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not {command} in {patience} s")
            await asyncio.sleep(0.2)

    def memory_kib(self) -> dict[str, int]:
        rollup = servers._smaps_rollup(self.pid)
        return {"private": rollup["Private_Clean"] + rollup["Private_Dirty"], "pss": rollup["Pss"]}


def owner(frame_file: str) -> str:
    """The package a source file belongs to (PACKAGES), else its name."""
    parts = Path(frame_file).parts
    for package in PACKAGES:
        if package in parts:
            return package
    return Path(frame_file).name


def ours_or_theirs(traceback: tracemalloc.Traceback) -> str:
    """Who asked: the innermost frame of notes_service's app (not its server: serving/, cli.py),
    else the innermost frame of a library that is not asyncio's."""
    frames = list(reversed(traceback))  # a Traceback runs from the oldest frame to the newest
    for frame in frames:
        if "notes_service" in frame.filename and not (
            "serving" in frame.filename or "cli.py" in frame.filename
        ):
            return f"notes_service/{Path(frame.filename).name}:{frame.lineno}"
    for frame in frames:
        package = owner(frame.filename)
        if package in PACKAGES and package not in ("asyncio", "notes_service"):
            return f"{package}/{Path(frame.filename).name}:{frame.lineno}"
    return f"(other) {owner(frames[0].filename)}/{Path(frames[0].filename).name}:{frames[0].lineno}"


def analyse(folder: Path, streams: int, top: int) -> dict[str, Any]:
    snapshot: tracemalloc.Snapshot = pickle.loads((folder / "snapshot.pickle").read_bytes())
    snapshot = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    traces = snapshot.traces
    total = sum(trace.size for trace in traces)
    by_package: collections.Counter[str] = collections.Counter()
    by_asker: collections.Counter[str] = collections.Counter()
    for trace in traces:
        by_package[owner(trace.traceback[-1].filename)] += trace.size
        by_asker[ours_or_theirs(trace.traceback)] += trace.size
    sites = []
    for stat in snapshot.statistics("traceback")[:top]:
        frames = [
            f"{owner(frame.filename)}/{Path(frame.filename).name}:{frame.lineno}"
            for frame in reversed(stat.traceback)
        ]
        sites.append(
            {"bytes_per_stream": round(stat.size / streams, 1), "count": stat.count, "frames": frames}
        )
    lines = [
        {"bytes_per_stream": round(stat.size / streams, 1), "count": stat.count, "at": str(stat.traceback[0])}
        for stat in snapshot.statistics("lineno")[:top]
    ]
    return {
        "traced_bytes_per_stream": round(total / streams, 1),
        "by_package": {name: round(size / streams, 1) for name, size in by_package.most_common()},
        "by_asker": {name: round(size / streams, 1) for name, size in by_asker.most_common(top)},
        "lines": lines,
        "tracebacks": sites,
    }


def types_delta(folder: Path, streams: int, top: int) -> list[dict[str, Any]]:
    before = json.loads((folder / "types-before.json").read_text())
    after = json.loads((folder / "types-after.json").read_text())
    rows = []
    for name, (count, size) in after.items():
        old_count, old_size = before.get(name, [0, 0])
        if count - old_count >= streams // 2:
            rows.append(
                {
                    "type": name,
                    "per_stream": round((count - old_count) / streams, 2),
                    "sizeof_bytes_per_stream": round((size - old_size) / streams, 1),
                }
            )
    rows.sort(key=lambda row: -row["sizeof_bytes_per_stream"])
    return rows[:top]


async def run(options: argparse.Namespace) -> dict[str, Any]:
    raise_open_files(options.streams + 1000)
    outcome: dict[str, Any] = {"streams_asked": options.streams, "traced": options.trace}
    with tempfile.TemporaryDirectory(prefix="notes-bench-stream-memory-") as scratch_name:
        scratch = Path(scratch_name)
        folder = scratch / "trace"
        folder.mkdir()
        env = servers.service_env(
            f"sqlite+aiosqlite:///{scratch / 'db' / 'notes.db'}", secrets.token_urlsafe(48), PASSWORD_ROUNDS
        )
        env.update(
            NOTES_EVENTS_HEARTBEAT_SECONDS=f"{options.heartbeat:g}",
            PYTHONPATH=str(servers.ROOT),
            **{TRACE_DIR: str(folder), FRAMES: str(options.frames)},
        )
        say(f"seeding {options.streams:,} users")
        servers.migrate(scratch / "db", env)
        users = seed_database(scratch / "db" / "notes.db", options.streams)
        command = [str(servers.BIN / "notes-service"), "serve", "--app", "bench.stream_memory:traced()"]
        command += ["--bind", "{bind}", "--workers", "1"]
        server = servers.Server("stream-memory", scratch / "serve", command, env, workers=1)
        fleet, warm = Fleet(), Fleet()
        try:
            server.launch()
            await asyncio.to_thread(server.wait_ready)
            worker = Worker(server, folder)
            await open_streams(server.port, users.tokens[:20], warm)  # first-use costs, not per stream
            await asyncio.sleep(1)
            for stream in warm.streams:
                stream.close()
            await asyncio.sleep(2)
            await worker.ask("start" if options.trace else "census")
            before = worker.memory_kib()
            say(f"worker {worker.pid}: {before} KiB; opening {options.streams:,} streams")
            outcome["open_seconds"] = round(await open_streams(server.port, users.tokens, fleet), 1)
            outcome["streams_open"] = opened = len(fleet.streams)
            outcome["refused"] = fleet.refused
            await asyncio.sleep(options.heartbeat + 1)  # every stream past its first heartbeat
            after = worker.memory_kib()
            outcome["worker_kib"] = {"before": before, "open": after}
            outcome["private_bytes_per_stream"] = round(
                (after["private"] - before["private"]) * 1024 / opened, 1
            )
            outcome["pss_bytes_per_stream"] = round((after["pss"] - before["pss"]) * 1024 / opened, 1)
            say(f"{opened:,} open: {after} KiB; private {outcome['private_bytes_per_stream']} B a stream")
            say("dumping")
            await worker.ask("dump")
            if options.trace:
                outcome.update(analyse(folder, opened, options.top))
            outcome["types"] = types_delta(folder, opened, options.top)
            outcome["still_open"] = sum(1 for stream in fleet.streams if not stream.transport.is_closing())
        finally:
            for stream in fleet.streams + warm.streams:
                stream.close()
            server.stop()
    return outcome


def render(outcome: dict[str, Any]) -> str:
    lines = [
        f"## {outcome['streams_open']:,} idle streams on one worker "
        f"({'tracemalloc on' if outcome['traced'] else 'untraced'}), refused {outcome['refused']}",
        "",
        f"worker memory, KiB: {outcome['worker_kib']}",
        f"private (USS) growth a stream: {outcome['private_bytes_per_stream']:,} B; "
        f"PSS growth a stream: {outcome['pss_bytes_per_stream']:,} B",
    ]
    if outcome["traced"]:
        lines += [
            f"traced by tracemalloc (alive, allocated since the start): "
            f"{outcome['traced_bytes_per_stream']:,} B a stream",
            "",
            "### by package of the allocating frame, bytes a stream",
            *(f"  {size:>9,.1f}  {name}" for name, size in outcome["by_package"].items()),
            "",
            "### by who asked (the innermost frame of the app, else of a library), bytes a stream",
            *(f"  {size:>9,.1f}  {name}" for name, size in outcome["by_asker"].items()),
            "",
            "### allocation sites (line), bytes a stream",
            *(
                f"  {row['bytes_per_stream']:>9,.1f}  {row['count']:>7}  {row['at']}"
                for row in outcome["lines"]
            ),
            "",
            "### allocation sites with their tracebacks (innermost first)",
        ]
        for site in outcome["tracebacks"]:
            lines.append(f"  {site['bytes_per_stream']:>9,.1f} B  ×{site['count']}")
            lines += [f"        {frame}" for frame in site["frames"]]
    lines += [
        "",
        "### objects tracked by gc, per stream (types with at least one for every two streams)",
        *(
            f"  {row['per_stream']:>6}  {row['sizeof_bytes_per_stream']:>8,.1f} B  {row['type']}"
            for row in outcome["types"]
        ),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stream_memory", description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=2000, help="idle streams opened on the one worker")
    parser.add_argument("--heartbeat", type=float, default=5.0, help="NOTES_EVENTS_HEARTBEAT_SECONDS")
    parser.add_argument("--frames", type=int, default=16, help="tracemalloc frames kept per allocation")
    parser.add_argument("--top", type=int, default=40, help="rows shown in each table")
    parser.add_argument(
        "--no-trace", dest="trace", action="store_false", help="measure memory without tracemalloc's cost"
    )
    options = parser.parse_args()
    import uvloop

    started = time.monotonic()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        outcome = runner.run(run(options))
    outcome.update(command=" ".join(["python -m bench.stream_memory", *sys.argv[1:]]))
    print(render(outcome))
    print(f"\n{time.monotonic() - started:.0f} s; load average {os.getloadavg()}")
    return 0


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
