"""`python -m bench.streams_across [--streams N]`: live streams across two hosts (issue 22).

The deployment SPEC §10 promises "within 1 second, whichever worker or host made the write", with
the figure issue 22 asks for: N streams open, 200 writes a second through the API spread over their
users, every event delivered exactly once, write acknowledged → event received p50 ≤ 20 ms, p99 ≤
150 ms, on PostgreSQL + Redis with two `serve` instances behind nginx.

- One throwaway PostgreSQL database (bench/postgres.py): N stream users with an API token each,
  written with COPY as seed.service_postgres does, numbered as the change feed's migration numbers
  existing notes (seed.number_changes_postgres).
- Two `notes-service serve --workers 2` on 127.0.0.1, both on that database, with NOTES_REDIS_URL
  and a Redis prefix of this run (its keys deleted afterwards, as bench/commits.py does).
- A real nginx in front of both (bench/proxy.py: the shipped deploy/nginx.conf's upstream and
  stream location), which says in `X-Bench-Upstream` which instance answered.
- Through nginx: N `GET /api/events` (bench/streams.py's load generator), then `POST /api/notes` at
  a fixed rate (open loop) as the stream users in turn; bench/streams.py's `delivery` says whether
  each note came exactly once on its author's stream, and how long after its 201.
- The benchmark also subscribes to the service's Redis channel and times each message, which splits
  a write's way to another worker in two: write acknowledged → the relay's message, and that
  message → the event. Each write is put beside its stream: same instance or the other.

Everything shares the machine's cores with the load generator (this process): its CPU, the servers',
nginx's, the database's backends and the machine's load average are reported beside the figures.
Servers and nginx are stopped by the PIDs started, the database dropped, the Redis keys deleted.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import hashlib
import json
import os
import random
import secrets
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson

from . import postgres, results, seed, servers
from .commits import REDIS_URL, _drop_redis_keys, _redis_reachable, machine_busy_seconds, server_cpu_seconds
from .proxy import UPSTREAM_HEADER, Nginx, cpu_seconds, runqueue_wait_seconds
from .streams import PASSWORD_ROUNDS, Fleet, delivery, open_streams, raise_open_files, say, self_cpu

P50_TARGET_MS = 20.0
P99_TARGET_MS = 150.0
CLOCK = time.time() - time.monotonic()  # wall clock → this process's monotonic one


async def seed_postgres(dsn: str, streams: int) -> list[str]:
    """N users with a token each (no notes), with COPY; their tokens, index i for user id i + 1."""
    password_hash = seed.bcrypt_sha256(PASSWORD_ROUNDS).hash(secrets.token_urlsafe(12))
    tokens = ["nts_" + secrets.token_urlsafe(32) for _ in range(streams)]
    users, api_tokens = [], []
    for index, token in enumerate(tokens):
        user_id, name = index + 1, f"stream{index + 1}"
        users.append((user_id, name, name, f"{name}@bench.example", password_hash, True, seed.EPOCH))
        api_tokens.append(
            (user_id, "bench", hashlib.sha256(token.encode()).hexdigest(), seed.EPOCH, None, None)
        )
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(
            "users",
            records=users,
            columns=["id", "username", "username_key", "email", "password_hash", "is_active", "created_at"],
        )
        await connection.copy_records_to_table(
            "api_tokens",
            records=api_tokens,
            columns=["user_id", "name", "token_digest", "created_at", "last_used_at", "expires_at"],
        )
        await connection.execute("SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users")
    finally:
        await connection.close()
    await seed.number_changes_postgres(dsn)  # ANALYZE too
    return tokens


def upstream_of(head: bytes) -> str | None:
    """The instance that answered, from the X-Bench-Upstream header nginx adds."""
    name = UPSTREAM_HEADER.lower().encode() + b":"
    for line in head.split(b"\r\n"):
        if line.lower().startswith(name):
            return line[len(name) :].strip().decode()
    return None


async def write_notes(
    url: str, tokens: dict[int, str], rate: float, seconds: float, first: int = 0
) -> list[dict[str, Any]]:
    """bench.streams.write_notes through nginx, keeping which instance took each write: POST
    /api/notes at `rate` a second (open loop) as the users of `tokens` in (a shuffled) turn."""
    # In a shuffled turn: in id order, nginx's round robin would send each write to the instance
    # that took its author's stream (opened in id order too), and "the other instance" would be rare.
    users = sorted(tokens)
    random.Random(len(users)).shuffle(users)
    writes: list[dict[str, Any]] = []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits, trust_env=False) as http:

        async def one(number: int) -> None:
            user = users[(first + number) % len(users)]
            record: dict[str, Any] = {"user": user, "sent": time.monotonic()}
            try:
                response = await http.post(
                    "/api/notes",
                    json={"title": f"Across {number}", "content": "Written while the streams are open."},
                    headers={"Authorization": f"Bearer {tokens[user]}"},
                )
                record["acked"] = time.monotonic()
                record["status"] = response.status_code
                record["upstream"] = response.headers.get(UPSTREAM_HEADER)
                if response.status_code == 201:
                    note = response.json()
                    record["id"] = note["id"]
                    # The service's own clock (this machine's) when it wrote the note: what came
                    # before (queues in front of the write) is not the stream's doing.
                    record["stamped"] = datetime.fromisoformat(note["updated_at"]).timestamp() - CLOCK

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


class RelayWatch:
    """The service's Redis channel, heard by the benchmark: when each message came, whose users."""

    def __init__(self, prefix: str) -> None:
        self.channel = f"{prefix}live"
        self.messages: list[tuple[float, str, list[int]]] = []  # (when, sender, users)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from redis.asyncio import Redis

        self.client = Redis.from_url(REDIS_URL, protocol=2)
        self.pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        await self.pubsub.subscribe(self.channel)
        self.task = asyncio.create_task(self._listen())

    async def _listen(self) -> None:
        while True:
            message = await self.pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "message":
                body = orjson.loads(message["data"])
                self.messages.append((time.monotonic(), body["from"], body["users"]))

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        await self.pubsub.aclose()
        await self.client.aclose()

    def first_after(self) -> dict[int, list[tuple[float, str]]]:
        """Per user, the messages naming it, in order."""
        by_user: dict[int, list[tuple[float, str]]] = {}
        for when, sender, users in self.messages:
            for user in users:
                by_user.setdefault(user, []).append((when, sender))
        return by_user

    def summary(self, seconds: float) -> dict[str, Any]:
        sizes = sorted(len(users) for _, _, users in self.messages)
        senders: dict[str, int] = {}
        for _, sender, _ in self.messages:
            senders[sender] = senders.get(sender, 0) + 1
        return {
            "messages": len(self.messages),
            "per_second": round(len(self.messages) / seconds, 1) if seconds > 0 else 0.0,
            "users_per_message": percentiles([float(size) for size in sizes]),
            "senders": len(senders),
        }


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95, p99 and max of `values`, rounded to 0.1."""
    if not values:
        return {}
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1], 1)}


def paths(
    writes: list[dict[str, Any]],
    fleet: Fleet,
    held_by: dict[int, str | None],
    relay: dict[int, list[tuple[float, str]]],
) -> dict[str, Any]:
    """Write acknowledged → event received for all writes, for those whose stream is on the instance
    that took the write and for those on the other; from the note's `updated_at` (the service's
    clock when it wrote it) to its event and to its 201; and split at the relay's message naming
    the author: ack → message, message → event."""
    groups: dict[str, dict[str, list[float]]] = {}
    before_relay = {"all": 0, "same": 0, "other": 0}
    for write in writes:
        arrived = fleet.arrivals.get((write["user"], write.get("id")), [])
        if not arrived:
            continue
        where = "same" if write.get("upstream") == held_by.get(write["user"]) else "other"
        latency = (arrived[0] - write["acked"]) * 1000
        heard = relay.get(write["user"], [])
        # Its message: the first naming its author after the service stamped the note.
        index = bisect.bisect_left(heard, (write["stamped"], ""))
        for group in ("all", where):
            figures = groups.setdefault(
                group,
                {"latency": [], "to_relay": [], "relay_to_event": [], "from_stamp": [], "stamp_to_ack": []},
            )
            figures["latency"].append(latency)
            figures["from_stamp"].append((arrived[0] - write["stamped"]) * 1000)
            figures["stamp_to_ack"].append((write["acked"] - write["stamped"]) * 1000)
            if index < len(heard):
                message = heard[index][0]
                figures["to_relay"].append((message - write["acked"]) * 1000)
                figures["relay_to_event"].append((arrived[0] - message) * 1000)
                if arrived[0] < message:
                    before_relay[group] += 1
    return {
        group: {
            "writes": len(figures["latency"]),
            "latency_ms": percentiles(figures["latency"]),
            "event_before_ack": sum(1 for value in figures["latency"] if value < 0),
            "stamped_to_event_ms": percentiles(figures["from_stamp"]),
            "stamped_to_ack_ms": percentiles(figures["stamp_to_ack"]),
            "ack_to_relay_message_ms": percentiles(figures["to_relay"]),
            "relay_message_to_event_ms": percentiles(figures["relay_to_event"]),
            "event_before_relay_message": before_relay[group],
            "slowest_over_p99_target": sum(1 for value in figures["latency"] if value > P99_TARGET_MS),
        }
        for group, figures in groups.items()
    }


def slow_events(
    writes: list[dict[str, Any]], fleet: Fleet, held_by: dict[int, str | None], start: float
) -> list[dict[str, Any]]:
    """The events that came more than P99_TARGET_MS after their note was stamped: when (seconds
    into the writes, by the service's stamp), on which instance, and how late; a stall that
    recurs shows in their times."""
    slow = []
    for write in writes:
        arrived = fleet.arrivals.get((write["user"], write.get("id")), [])
        if arrived and (late := (arrived[0] - write["stamped"]) * 1000) > P99_TARGET_MS:
            slow.append(
                {
                    "at_s": round(write["stamped"] - start, 3),
                    "writer": write.get("upstream"),
                    "stream": held_by.get(write["user"]),
                    "ms": round(late, 1),
                }
            )
    return sorted(slow, key=lambda event: event["at_s"])


async def backend_cpu(connection: asyncpg.Connection | None) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to the benchmark's database ({}
    without a connection: the shared server may have had no slot left for one)."""
    if connection is None:
        return {}
    rows = await connection.fetch(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    return {row["pid"]: cpu_seconds([row["pid"]]) for row in rows}


class Meter:
    """CPU seconds of everyone involved over a phase, as cores (CPU seconds ÷ wall seconds)."""

    def __init__(
        self, instances: list[servers.Server], nginx: Nginx, connection: asyncpg.Connection | None
    ) -> None:
        self.instances, self.nginx, self.connection = instances, nginx, connection

    async def sample(self) -> dict[str, Any]:
        return {
            "wall": time.monotonic(),
            "self": self_cpu(),
            "machine": machine_busy_seconds(),
            "instances": [server_cpu_seconds(server) for server in self.instances],
            "instances_waiting": runqueue_wait_seconds(
                [pid for server in self.instances for pid in _tree(server)]
            ),
            "self_waiting": runqueue_wait_seconds([os.getpid()]),
            "nginx": self.nginx.cpu_seconds(),
            "backends": await backend_cpu(self.connection),
            "load": os.getloadavg(),
        }

    @staticmethod
    def cores(start: dict[str, Any], end: dict[str, Any]) -> dict[str, Any]:
        wall = end["wall"] - start["wall"]
        backends = sum(cpu - start["backends"].get(pid, 0.0) for pid, cpu in end["backends"].items())
        return {
            "seconds": round(wall, 1),
            "load_generator": round((end["self"] - start["self"]) / wall, 3),
            "instances": [
                round((after - before) / wall, 3)
                for before, after in zip(start["instances"], end["instances"], strict=True)
            ],
            "nginx": round((end["nginx"] - start["nginx"]) / wall, 3),
            # Runnable but not running (waiting for a core), process-seconds a second: the CPU the
            # servers and the load generator wanted and did not get.
            "instances_waiting_for_cpu": round(
                (end["instances_waiting"] - start["instances_waiting"]) / wall, 3
            ),
            "load_generator_waiting_for_cpu": round((end["self_waiting"] - start["self_waiting"]) / wall, 3),
            "postgres_backends": round(backends / wall, 3),
            "postgres_backends_seen": len(end["backends"]),
            "machine": round((end["machine"] - start["machine"]) / wall, 3),
            "load_average_1m": [round(start["load"][0], 2), round(end["load"][0], 2)],
        }


def _tree(server: servers.Server) -> list[int]:
    return ([server.process.pid] if server.process else []) + server.workers()


async def bench(options: argparse.Namespace) -> dict[str, Any]:
    outcome: dict[str, Any] = {"streams_asked": options.streams, "rate_asked": options.rate}
    outcome["load_generator_open_files"] = raise_open_files(options.streams + 1000)
    if not await _redis_reachable():
        raise SystemExit(f"Redis does not answer at {REDIS_URL} (BENCH_REDIS_URL)")
    prefix = f"notes-bench-across-{secrets.token_hex(4)}:"
    instances: list[servers.Server] = []
    nginx: Nginx | None = None
    watching: asyncpg.Connection | None = None
    fleet = Fleet()
    with tempfile.TemporaryDirectory(prefix="notes-bench-across-") as scratch_name:
        scratch = Path(scratch_name)
        try:
            async with postgres.temporary_database() as dsn:
                try:  # everything started is stopped before the database is dropped
                    env = servers.service_env(
                        postgres.sqlalchemy_url(dsn), secrets.token_urlsafe(48), PASSWORD_ROUNDS
                    )
                    env.update(
                        NOTES_REDIS_URL=REDIS_URL,
                        NOTES_REDIS_PREFIX=prefix,
                        NOTES_TRUSTED_PROXY_HOPS="1",  # as deployed behind the one nginx
                        PYTHONPATH=str(servers.ROOT),
                    )
                    servers.migrate(scratch / "a", env)
                    say(f"seeding {options.streams:,} stream users (COPY)")
                    tokens = await seed_postgres(dsn, options.streams)
                    # Taken before the servers' pools (4 × 20) can fill a shared server's slots.
                    try:
                        watching = await asyncpg.connect(dsn)
                    except asyncpg.TooManyConnectionsError:
                        outcome["postgres_backends"] = "not read: no connection slot left"
                    instances = [servers.service(name, scratch / name, env) for name in ("a", "b")]
                    for server in instances:
                        server.launch()
                    for server in instances:
                        await asyncio.to_thread(server.wait_ready)
                    ports = [server.port for server in instances]
                    nginx = Nginx(scratch / "nginx", ports, options.streams)
                    await asyncio.to_thread(nginx.start)
                    outcome["instances"] = {server.name: f"127.0.0.1:{server.port}" for server in instances}
                    await measure(options, outcome, tokens, instances, nginx, watching, prefix, fleet)
                finally:
                    stop(outcome, fleet, nginx, instances)
                    if watching is not None:
                        await watching.close()
        finally:
            await _drop_redis_keys(prefix)
    return outcome


def stop(outcome: dict[str, Any], fleet: Fleet, nginx: Nginx | None, instances: list[servers.Server]) -> None:
    """Close the streams, stop nginx and the instances by their PIDs; keep their errors."""
    for stream in fleet.streams:
        stream.close()
    if nginx is not None:
        nginx.stop()
        outcome["nginx_errors"] = [
            line for line in nginx.log().splitlines() if "[error]" in line or "[crit]" in line
        ][:10]
    for server in instances:
        server.stop()
    outcome["server_log_errors"] = [
        f"{server.name}: {line}"
        for server in instances
        for line in server.log().splitlines()
        if "error" in line.lower() or "traceback" in line.lower()
    ][:20]


async def measure(
    options: argparse.Namespace,
    outcome: dict[str, Any],
    tokens: list[str],
    instances: list[servers.Server],
    nginx: Nginx,
    watching: asyncpg.Connection | None,
    prefix: str,
    fleet: Fleet,
) -> None:
    say(f"opening {options.streams:,} streams through nginx")
    outcome["open_seconds"] = round(await open_streams(nginx.port, tokens, fleet), 1)
    outcome["streams_open"] = len(fleet.streams)
    outcome["refused"] = fleet.refused
    held_by = {stream.user: upstream_of(stream.head) for stream in fleet.streams}
    by_instance: dict[str, int] = {}
    for upstream in held_by.values():
        by_instance[str(upstream)] = by_instance.get(str(upstream), 0) + 1
    outcome["streams_by_instance"] = by_instance
    say(f"{len(fleet.streams):,} open in {outcome['open_seconds']} s, by instance {by_instance}")
    await asyncio.sleep(2)
    meter = Meter(instances, nginx, watching)
    if options.idle_seconds > 0:  # what the open streams cost with nothing written
        idle = await meter.sample()
        await asyncio.sleep(options.idle_seconds)
        outcome["idle_cores"] = Meter.cores(idle, await meter.sample())
        say(f"idle: {outcome['idle_cores']}")
    active = {user: tokens[user - 1] for user in sorted(held_by)}
    if options.warm_seconds > 0:  # pools and plans warm; its notes are not counted
        warm = await write_notes(nginx.url, active, options.rate, options.warm_seconds)
        outcome["warm_up"] = delivery(warm, fleet)
        await asyncio.sleep(2)
        fleet.arrivals.clear()
        fleet.other_events = 0
    watch = RelayWatch(prefix)
    await watch.start()
    say(f"writing {options.rate:g} notes/s for {options.write_seconds:g} s through nginx")
    start = await meter.sample()
    writes = await write_notes(
        nginx.url, active, options.rate, options.write_seconds, first=int(options.rate * options.warm_seconds)
    )
    end = await meter.sample()
    await asyncio.sleep(options.settle_seconds)  # the last events' way back
    await watch.stop()
    outcome["writes"] = delivery(writes, fleet)
    outcome["writes_by_instance"] = {
        str(upstream): sum(1 for write in writes if write.get("upstream") == upstream)
        for upstream in sorted({str(write.get("upstream")) for write in writes})
    }
    outcome["paths"] = paths(writes, fleet, held_by, watch.first_after())
    outcome["relay"] = watch.summary(end["wall"] - start["wall"])
    outcome["slow_events"] = slow_events(writes, fleet, held_by, start["wall"])
    outcome["cores"] = Meter.cores(start, end)
    outcome["dropped"] = len(fleet.dropped)
    say(json.dumps({key: outcome[key] for key in ("writes", "paths", "relay", "cores")}))


def render(outcome: dict[str, Any]) -> str:
    writes, cores, found = outcome["writes"], outcome["cores"], outcome["paths"]
    load = (
        f"load average {cores['load_average_1m'][0]}→{cores['load_average_1m'][1]}, "
        f"machine busy {cores['machine']} of 2 cores"
    )
    lines = [
        f"## Live streams across two instances: {outcome['streams_open']:,} of {outcome['streams_asked']:,} "
        f"open through nginx in {outcome['open_seconds']} s (PostgreSQL + Redis, 2 × serve --workers 2); "
        f"by instance {outcome['streams_by_instance']}; refused {outcome['refused']}",
        "",
        f"All figures below: {load}.",
        "",
        "| figure | seen | target |",
        "|---|---|---|",
        f"| writes at {outcome['rate_asked']:g}/s: acknowledged / delivered / missing / twice / unexpected | "
        f"{writes['acknowledged']} / {writes['delivered']} / {writes['missing']} / "
        f"{writes['delivered_twice']} / {writes['unexpected_events']} | all once |",
        f"| writes acknowledged a second (by instance {outcome['writes_by_instance']}) | "
        f"{writes['acknowledged_per_second']} | {outcome['rate_asked']:g} |",
        f"| write → 201, ms | {writes['acknowledge_ms']} | |",
    ]
    targets = f"p50 ≤ {P50_TARGET_MS:g}, p99 ≤ {P99_TARGET_MS:g}"
    for group, title in (("all", "all writes"), ("same", "stream on the instance that took the write"),
                         ("other", "stream on the other instance")):  # fmt: skip
        if group not in found:
            continue
        path = found[group]
        lines.append(
            f"| 201 → event, ms, {title} ({path['writes']}; {path['event_before_ack']} before their 201, "
            f"{path['event_before_relay_message']} before the Redis message; "
            f"{path['slowest_over_p99_target']} over {P99_TARGET_MS:g} ms) | {path['latency_ms']} | "
            f"{targets if group == 'all' else ''} |"
        )
        lines.append(
            f"| … note stamped by the service (`updated_at`) → event / → its 201, ms | "
            f"{path['stamped_to_event_ms']} / {path['stamped_to_ack_ms']} | |"
        )
        lines.append(
            f"| … 201 → Redis message / Redis message → event, ms | {path['ack_to_relay_message_ms']} / "
            f"{path['relay_message_to_event_ms']} | |"
        )
    relay = outcome["relay"]
    lines += [
        f"| Redis messages: count, a second, users per message | {relay['messages']}, {relay['per_second']}, "
        f"{relay['users_per_message']} | |",
        f"| streams dropped | {outcome['dropped']} | 0 |",
        "",
        f"Cores while writing ({cores['seconds']} s): load generator {cores['load_generator']}, instances "
        f"{cores['instances']} (and waiting for a core: {cores['instances_waiting_for_cpu']} process-seconds "
        f"a second; the load generator {cores['load_generator_waiting_for_cpu']}), nginx {cores['nginx']}, "
        f"PostgreSQL backends {cores['postgres_backends']} "
        f"({cores['postgres_backends_seen']} connected), machine {cores['machine']}; "
        f"{load}.",
    ]
    if "idle_cores" in outcome:
        idle = outcome["idle_cores"]
        lines.append(
            f"Streams open, nothing written ({idle['seconds']} s): instances {idle['instances']} cores, "
            f"nginx "
            f"{idle['nginx']}, PostgreSQL backends {idle['postgres_backends']}, load generator "
            f"{idle['load_generator']}; load average {idle['load_average_1m'][1]}, machine {idle['machine']}."
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.streams_across", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--streams", type=int, default=1_000, help="streams held open, one per user (≤ 10,000)"
    )
    parser.add_argument("--rate", type=float, default=200.0, help="writes a second")
    parser.add_argument("--write-seconds", type=float, default=20.0)
    parser.add_argument("--warm-seconds", type=float, default=2.0, help="writes before, not counted")
    parser.add_argument("--idle-seconds", type=float, default=5.0, help="CPU with the streams idle, over")
    parser.add_argument("--settle-seconds", type=float, default=3.0, help="waited for the last events")
    options = parser.parse_args()
    if not 1 <= options.streams <= 10_000:
        parser.error("--streams: 1 to 10,000")
    import uvloop  # the service's own loop: many sockets cost the load generator less on it

    started = time.monotonic()
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        outcome = runner.run(bench(options))
    outcome.update(
        command=" ".join(["python -m bench.streams_across", *sys.argv[1:]]),
        elapsed_seconds=round(time.monotonic() - started, 1),
        machine=results.machine(),
    )
    results.RESULTS_DIR.mkdir(exist_ok=True)
    path = results.RESULTS_DIR / f"streams-across-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(outcome, indent=2, default=str) + "\n")
    if "writes" in outcome:
        print(render(outcome))
    print(f"\n{outcome['elapsed_seconds']:.0f} s; raw results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
