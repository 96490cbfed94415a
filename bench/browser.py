"""`python -m bench.browser [--quick]`: the browser app's speed (issue 23) in headless Chromium.

Starts a real `notes-service serve` (2 workers, SQLite, 127.0.0.1, a free port; stopped by its PID
on the way out) on a migrated database seeded by seed.py: one user with 1,000 notes, one with 10,000
(among two more users' 1,000), every fourth of theirs tagged `home` and the next `work`. Signs in
through the login form (Debian's Chromium, Playwright, as tests/browser do) and measures, on the
page's own clock (browser_probes.py, browser_session.py):

1. a note opened from the list: its click → the first frame showing its text (≤ 100 ms);
2. typing while each save is held 2 s by a route: keydown → the next frame after its input is
   handled, for keys typed while a save was away, beside the same typing with saves not held
   (typing never waits for the network: no slower by more than a frame);
3. search as one types, 10,000 notes: each query typed at a person's pace (150 ms a key), its last
   key → the list showing the query's first page as the route answers it (≤ 150 ms);
4. the JavaScript a fresh browser fetches from the login page to the notes list, gzipped (≤ 60 KB),
   and nothing fetched from another host.

The table goes to stdout as Markdown, the raw figures to bench/results/browser-*.json. Without
Chromium or Playwright it says so and exits 0, so `make bench` still runs on a machine without them.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import secrets
import sqlite3
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

from . import results, seed, servers
from .browser_report import render, summarize
from .browser_session import Settings, Watch, opens, scripts, searches, signed_in, typing

BCRYPT_ROUNDS = 4  # sign-ins are not measured here
QUERIES = ("plumbers", "tomato beans", '"kitchen sink"', "tag:home heating", "quokkas", "lentil soup cumin")
FULL = Settings(
    list_notes=1_000,
    search_notes=10_000,
    opens=30,
    bursts=6,
    burst_keys=10,
    save_delay_ms=2_000,
    key_delay_ms=90,
    search_key_delay_ms=150,
    queries=QUERIES,
    search_rounds=3,
)
QUICK = dataclasses.replace(
    FULL,
    list_notes=40,
    search_notes=200,
    opens=3,
    bursts=2,
    burst_keys=4,
    save_delay_ms=1_000,
    queries=QUERIES[:2],
    search_rounds=1,
)


def missing() -> str | None:
    """Why the browser bench cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "no playwright Python package (the test extras)"
    return None


@dataclasses.dataclass(frozen=True)
class Seeded:
    lister: seed.Account  # opens notes and types
    searcher: seed.Account  # searches
    password: str


def seed_database(database: Path, settings: Settings) -> Seeded:
    """The lister (settings.list_notes notes) and the searcher (settings.search_notes, with tags)
    among others, straight into the migrated schema, numbered for the change feed."""
    dataset = seed.make_dataset()
    lister = dataclasses.replace(dataset.reader, notes=settings.list_notes)
    searcher = dataclasses.replace(dataset.others[0], notes=settings.search_notes)
    dataset = dataclasses.replace(dataset, reader=lister, others=(searcher, *dataset.others[1:3]))
    seed.service_sqlite(
        database, dataset, seed.bcrypt_sha256(BCRYPT_ROUNDS).hash(dataset.password), deep=False
    )
    seed.number_changes_sqlite(database)
    with closing(sqlite3.connect(database)) as connection, connection:
        for tag, remainder in (("home", 0), ("work", 1)):
            chosen = "author_id = ? AND id % 4 = ?"
            connection.execute(f"UPDATE notes SET tags = ? WHERE {chosen}", (tag, searcher.id, remainder))
            connection.execute(
                "INSERT INTO note_tags (note_id, tag, author_id)"
                f" SELECT id, ?, author_id FROM notes WHERE {chosen}",
                (tag, searcher.id, remainder),
            )
    return Seeded(lister, searcher, dataset.password)


async def measure(server: str, accounts: Seeded, settings: Settings) -> dict[str, Any]:
    """The four phases, one browser, a context each."""
    from playwright.async_api import async_playwright

    password = accounts.password
    watch = Watch(server)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            say("scripts of a first load")
            loaded = await scripts(browser, server, accounts.lister.email, password, watch)
            context, page = await signed_in(browser, server, accounts.lister.email, password, watch)
            say(f"opening {settings.opens} notes of {settings.list_notes:,}")
            opened = await opens(page, settings)
            say(f"typing, saves held 0 and {settings.save_delay_ms} ms")
            typed = [await typing(page, settings, delay) for delay in (0, settings.save_delay_ms)]
            await context.close()
            context, page = await signed_in(browser, server, accounts.searcher.email, password, watch)
            say(
                f"searching {settings.search_notes:,} notes, "
                f"{len(settings.queries)} queries × {settings.search_rounds}"
            )
            searched = await searches(page, settings)
            await context.close()
        finally:
            await browser.close()
    return {
        "opens": opened,
        "typing": typed,
        "searches": searched,
        "scripts": loaded,
        "elsewhere": watch.elsewhere,
        "page_errors": watch.errors,
    }


def run(settings: Settings, *, quick: bool) -> dict[str, Any]:
    """Seed, serve, measure, stop: the raw figures and their summary."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="notes-browser-bench-") as scratch:
        workdir = Path(scratch) / "service"
        env = servers.service_env(
            f"sqlite+aiosqlite:///{workdir / 'notes.db'}", secrets.token_urlsafe(48), BCRYPT_ROUNDS
        )
        servers.migrate(workdir, env)
        say(f"seeding {settings.list_notes:,} + {settings.search_notes:,} notes")
        accounts = seed_database(workdir / "notes.db", settings)
        server = servers.service("service", workdir, env, settings.workers)
        try:
            server.launch()
            server.wait_ready()
            raw = asyncio.run(measure(server.url, accounts, settings))
        finally:
            server.stop()
    return {
        "started": started,
        "quick": quick,
        "machine": results.machine(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "settings": dataclasses.asdict(settings),
        "raw": raw,
        "summary": summarize(raw),
    }


def save(outcome: dict[str, Any]) -> Path:
    """bench/results/browser-<time>[-quick].json, beside the server bench's files."""
    results.RESULTS_DIR.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = results.RESULTS_DIR / f"browser-{stamp}{'-quick' if outcome['quick'] else ''}.json"
    path.write_text(json.dumps(outcome, indent=2) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.browser", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 and 200 notes, 3 opens, 2 queries (~30 s)")
    options = parser.parse_args(argv)
    reason = missing()
    if reason:
        print(f"browser bench skipped: {reason}")
        return 0
    began = time.monotonic()
    outcome = run(QUICK if options.quick else FULL, quick=options.quick)
    outcome["elapsed_seconds"] = round(time.monotonic() - began, 1)
    path = save(outcome)
    print(render(outcome))
    print(f"\n{outcome['elapsed_seconds']:.0f} s; raw results: {path}")
    return 0


def say(message: str) -> None:
    """Progress, on stderr: the table alone goes to stdout."""
    print(message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
