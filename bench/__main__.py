"""`python -m bench [--quick]`: start every server, seed it, run the rounds, print and save the table.

Orchestration only: servers come from servers.py, data from seed.py, the scenarios from scenarios.py
and features.py, the table from report.py. Every server is registered for stopping before it is
launched, so an error or Ctrl-C at any point stops what was started (and drops the PostgreSQL
database after its server). The SMTP server that receives the service's mail (mail/sender.py) starts
before the service and stops after it.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import secrets
import sys
import tempfile
import time
from contextlib import AbstractContextManager, AsyncExitStack, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import browser, clients, features, logins, mail, memory, postgres, report, results, seed, servers
from .scenarios import Scenario, Timing, plan


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description="Benchmark notes-service.")
    parser.add_argument("--quick", action="store_true", help="smoke mode: 1 round of 2 s runs")
    parser.add_argument("--rounds", type=int, help="override the number of rounds")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL variant")
    parser.add_argument("--no-browser", action="store_true", help="skip the browser app's figures")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the servers' directories (logs, databases) in bench/results/",
    )
    options = parser.parse_args()
    timing = Timing.quick() if options.quick else Timing.full()
    if options.rounds:
        timing = dataclasses.replace(timing, rounds=options.rounds)
    started = time.monotonic()
    try:
        outcome = asyncio.run(bench(timing, with_postgres=not options.no_postgres, keep=options.keep))
        outcome["browser"] = browser_section(quick=options.quick, skip=options.no_browser)
    except KeyboardInterrupt:
        print("interrupted; every server that was started has been stopped", file=sys.stderr)
        return 130
    outcome.update(
        quick=options.quick,
        command=" ".join(["python -m bench", *sys.argv[1:]]),
        elapsed_seconds=round(time.monotonic() - started, 1),
    )
    outcome["ratios"] = report.ratios(outcome)
    path = results.save(outcome)
    print(report.render(outcome))
    print(f"\n{outcome['elapsed_seconds']:.0f} s; raw results: {path}")
    print(f"chart: python -m bench.chart {path}")
    return 0


def browser_section(*, quick: bool, skip: bool) -> dict[str, Any]:
    """bench/browser.py's figures, after the servers above have stopped (its own server, its own
    data); on a machine without Chromium or Playwright, the reason instead."""
    reason = "--no-browser" if skip else browser.missing()
    if reason:
        say(f"browser app figures skipped: {reason}")
        return {"skipped": reason}
    say("the browser app in Chromium (python -m bench.browser)")
    return browser.run(browser.QUICK if quick else browser.FULL, quick=quick)


async def bench(timing: Timing, *, with_postgres: bool, keep: bool) -> dict[str, Any]:
    """Everything that needs the servers: start, seed, plan, measure, read peak RSS and the memory by
    worker count, stop."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    # First, while the machine is idle: the cost of one hash bounds the sign-in throughput.
    one_hash = logins.one_hash_seconds(logins.BCRYPT_ROUNDS)
    dataset = seed.make_dataset()
    notes: list[str] = []
    with _scratch(keep) as scratch:
        async with AsyncExitStack() as stack:
            inbox = mail.Inbox().up()
            stack.callback(inbox.down)
            running = await start_servers(stack, Path(scratch), dataset, notes, with_postgres, inbox.url)
            say("signing in, walking to the last page, checking every URL")
            scenarios = await asyncio.to_thread(plan, running, dataset, timing)
            scenarios += await asyncio.to_thread(features.plan, running["service"], dataset, timing, inbox)
            await warm_up(scenarios[0], timing.warmup_seconds)
            runs = await measure(scenarios, timing)
            rss = {name: server.peak_rss() for name, server in running.items()}
            say("memory of serve with 1, 2 and 4 workers")
            by_workers = await measure_memory(Path(scratch), running["service"], dataset, timing, notes)
    for name, peak in rss.items():
        if peak["workers_replaced"]:
            notes.append(f"a worker of {name} was replaced during the run: its peak RSS is lost")
    return {
        "started": started,
        "machine": results.machine(),
        "timing": dataclasses.asdict(timing),
        "bcrypt": {
            "rounds": logins.BCRYPT_ROUNDS,
            "one_hash_seconds": one_hash,
            "two_core_logins_per_second": logins.CORES / one_hash,
        },
        "notes": notes,
        "runs": runs,
        "summary": report.summarize(runs),
        "rss": rss,
        "memory": by_workers,
    }


def _scratch(keep: bool) -> AbstractContextManager[str]:
    """Where the servers live: a temporary directory, or with --keep one that stays in bench/results/."""
    if not keep:
        return tempfile.TemporaryDirectory(prefix="notes-bench-")
    results.RESULTS_DIR.mkdir(exist_ok=True)
    kept = tempfile.mkdtemp(prefix="servers-", dir=results.RESULTS_DIR)
    print(f"keeping the servers' logs and databases in {kept}", file=sys.stderr)
    return nullcontext(kept)


async def start_servers(
    stack: AsyncExitStack,
    scratch: Path,
    dataset: seed.Dataset,
    notes: list[str],
    with_postgres: bool,
    smtp_url: str,
) -> dict[str, servers.Server]:
    """Seed a fresh database for each server, launch them all, then wait until all are ready.
    The SQLite service, which the feature scenarios measure, mails through `smtp_url`."""
    password_hash = seed.bcrypt_sha256(logins.BCRYPT_ROUNDS).hash(dataset.password)
    secret_key = secrets.token_urlsafe(48)
    running: dict[str, servers.Server] = {}

    def launch(server: servers.Server) -> None:
        stack.callback(server.stop)
        running[server.name] = server
        server.launch()

    say("seeding databases and starting servers")
    workdir = scratch / "service"
    database = workdir / "notes.db"
    env = servers.service_env(f"sqlite+aiosqlite:///{database}", secret_key, logins.BCRYPT_ROUNDS)
    env["NOTES_SMTP_URL"] = smtp_url
    servers.migrate(workdir, env)
    seed.service_sqlite(database, dataset, password_hash, deep=True, secret_key=secret_key)
    launch(servers.service("service", workdir, env))

    (scratch / "original").mkdir()
    seed.original_sqlite(scratch / "original" / "notes.db", dataset)
    launch(servers.original(scratch / "original", scratch / "original" / "notes.db"))
    launch(servers.ceiling(scratch / "ceiling"))
    (scratch / "fastapi").mkdir()
    seed.fastapi_sqlite(scratch / "fastapi" / "notes.db", dataset, password_hash)
    launch(servers.fastapi(scratch / "fastapi", scratch / "fastapi" / "notes.db"))

    if with_postgres:
        try:
            url = await stack.enter_async_context(postgres.temporary_database())
        except postgres.Unreachable as error:
            notes.append(f"PostgreSQL variant skipped: {error}")
        else:
            env = servers.service_env(postgres.sqlalchemy_url(url), secret_key, logins.BCRYPT_ROUNDS)
            servers.migrate(scratch / "service-pg", env)
            await seed.service_postgres(url, dataset, password_hash, deep=False)
            launch(servers.service("service-pg", scratch / "service-pg", env))
    else:
        notes.append("PostgreSQL variant skipped (--no-postgres)")

    for server in running.values():
        await asyncio.to_thread(server.wait_ready)
    return running


async def measure_memory(
    scratch: Path, service: servers.Server, dataset: seed.Dataset, timing: Timing, notes: list[str]
) -> list[dict[str, Any]]:
    """memory.py's figures; when they cannot be taken, a note instead of losing the whole run."""
    header = clients.bearer(dataset.reader.token)
    try:
        return await memory.by_workers(scratch, service.env, header, timing.short_seconds)
    except (RuntimeError, OSError) as error:
        notes.append(f"memory by worker count not measured: {error}")
        return []


async def warm_up(scenario: Scenario, seconds: float) -> None:
    """A short unrecorded run per server, so first-request costs stay out of round 1."""
    for case in scenario.cases:
        assert case.load is not None
        await dataclasses.replace(case, load=dataclasses.replace(case.load, seconds=seconds)).run(0)


async def measure(scenarios: list[Scenario], timing: Timing) -> list[dict[str, Any]]:
    """Every case of every scenario, round after round; one record per wrk run."""
    runs = []
    for round_number in range(1, timing.rounds + 1):
        for scenario in scenarios:
            for case in scenario.cases:
                measured = await case.run(timing.flood_ramp_seconds)
                runs.append(
                    {
                        "round": round_number,
                        "scenario": scenario.key,
                        "title": scenario.title,
                        "case": case.id,
                        "server": case.server,
                        "label": case.label,
                        "connections": case.connections,
                        **measured,
                    }
                )
                say(
                    f"[{round_number}/{timing.rounds}] {scenario.title} · {case.label}: "
                    f"{measured['requests_per_second']:,.0f} req/s, p99 {measured['p99_ms']:.1f} ms, "
                    f"{measured['errors']} errors"
                )
    return runs


def say(message: str) -> None:
    """Progress, on stderr: the table alone goes to stdout."""
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
