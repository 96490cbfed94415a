"""What is measured: each scenario is a set of cases (server × variant) run back to back in a round.

Rounds repeat the whole list, so every case of a scenario is measured next to its baselines (A B A B …)
and slow drifts of a shared machine hit them alike. A case is one wrk load, a flood of sign-ins, or
both at once (login isolation). Browser sign-ins and the last-page walk happen here, once, before any
measurement.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from . import clients, logins, wrk
from .seed import SEARCH_PREFIX, SEARCH_WORD, Dataset
from .servers import Server

POST_SCRIPT = Path(__file__).with_name("post_note.lua")
# Read load during the login flood: enough connections to keep both workers busy with reads, few
# enough that the reads' own queueing does not hide what the sign-ins do to them.
READS_DURING_LOGINS = 8
DEPTH_PAGE = 20  # the 20-note user's whole list: every depth case returns the same 20 notes


@dataclass(frozen=True)
class Timing:
    rounds: int
    seconds: float  # the headline comparison, GET /api/notes c=64
    short_seconds: float  # every other case
    warmup_seconds: float
    flood_ramp_seconds: float  # sign-ins running before reads are measured
    # A sign-in flood alone, counted in whole sign-ins: at cost 12 two cores finish about 8 a second,
    # so one more or fewer in a 3 s window moved the rate by 4 %; in 8 s, by 1.6 %.
    flood_seconds: float

    @classmethod
    def full(cls) -> Timing:
        return cls(
            rounds=3, seconds=5, short_seconds=3, warmup_seconds=2, flood_ramp_seconds=1, flood_seconds=8
        )

    @classmethod
    def quick(cls) -> Timing:
        return cls(
            rounds=1, seconds=2, short_seconds=2, warmup_seconds=1, flood_ramp_seconds=0.5, flood_seconds=2
        )


class Probe(Protocol):
    """A measurement of its own (mail/sender.py, http/export.py): it returns a wrk run's figures
    (requests_per_second, p50_ms, p99_ms, requests, errors) and any others it has."""

    connections: int

    async def run(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Case:
    """One measurement: a wrk load, sign-ins flooding in the background, both, or a probe."""

    server: str
    load: wrk.Load | None  # None: the background sign-ins themselves are what is measured
    variant: str = ""  # shown after the server's name
    key: str = ""  # how report.py finds this case within its scenario (default: the server's name)
    expect_status: int | None = 200  # checked once before measuring (None: wrk's error count suffices)
    sign_ins: Callable[[], AbstractAsyncContextManager[logins.Flood]] | None = None
    seconds: float = 0.0  # how long to measure when there is no wrk load
    probe: Probe | None = None

    @property
    def id(self) -> str:
        return self.key or self.server

    @property
    def label(self) -> str:
        return f"{self.server} ({self.variant})" if self.variant else self.server

    @property
    def connections(self) -> int:
        if self.probe is not None:
            return self.probe.connections
        return self.load.connections if self.load else logins.CLIENTS

    def check(self) -> None:
        if self.load is not None and self.expect_status is not None:
            clients.expect(self.load.url, self.load.headers[0], self.expect_status)

    async def run(self, ramp_seconds: float) -> dict[str, Any]:
        """The wrk run's figures; with sign-ins, also theirs (or only theirs, without a load)."""
        if self.probe is not None:
            return await self.probe.run()
        if self.sign_ins is None:
            assert self.load is not None
            return (await wrk.run(self.load)).as_dict()
        reads = None
        # The machine's speed drifts over a run: the hash a flood is compared with is timed just
        # before it, while the server is idle.
        one_hash = await asyncio.to_thread(logins.one_hash_seconds, logins.BCRYPT_ROUNDS)
        async with self.sign_ins() as flood:
            await asyncio.sleep(ramp_seconds)
            start = time.monotonic()
            if self.load is not None:
                reads = await wrk.run(self.load)
            else:
                await asyncio.sleep(self.seconds)
            end = time.monotonic()
        sign_ins = flood.result(start, end)
        return {
            **(reads or sign_ins).as_dict(),
            "logins_per_second": sign_ins.requests_per_second,
            "login_failures": sign_ins.errors,
            "one_hash_seconds": one_hash,
        }


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    cases: tuple[Case, ...]


def plan(servers: dict[str, Server], dataset: Dataset, timing: Timing) -> list[Scenario]:
    """Every scenario, in the order a round runs them; each URL is checked once before any is measured."""
    scenarios = [
        *api_reads(servers, dataset, timing),
        html_pages(servers, dataset, timing),
        api_writes(servers, dataset, timing),
        login_isolation(servers["service"], dataset, timing),
        depth(servers["service"], dataset, timing),
        search(servers["service"], dataset, timing),
    ]
    return checked(scenarios)


def checked(scenarios: list[Scenario]) -> list[Scenario]:
    """The scenarios, once each of their URLs has answered as expected."""
    for scenario in scenarios:
        for case in scenario.cases:
            case.check()
    return scenarios


def api_reads(servers: dict[str, Server], dataset: Dataset, timing: Timing) -> list[Scenario]:
    """GET /api/notes by bearer token at c=1, 64, 256 (c=64, the headline, also on PostgreSQL); the
    FastAPI baseline must first answer with the very notes the service does."""
    reader = clients.bearer(dataset.reader.token)
    compared = [servers[name] for name in ("service", "original", "ceiling", "fastapi")]

    def scenario(connections: int, seconds: float, *extra: Server) -> Scenario:
        cases = tuple(
            Case(server.name, wrk.Load(f"{server.url}/api/notes", connections, seconds, (reader,)))
            for server in (*compared, *extra)
        )
        return Scenario(f"api-c{connections}", f"GET /api/notes c={connections}", cases)

    service, fastapi = servers["service"], servers["fastapi"]
    clients.expect_same_notes(f"{service.url}/api/notes", f"{fastapi.url}/api/notes", reader)
    postgres = [servers["service-pg"]] if "service-pg" in servers else []
    return [
        scenario(64, timing.seconds, *postgres),
        scenario(1, timing.short_seconds),
        scenario(256, timing.short_seconds),
    ]


def html_pages(servers: dict[str, Server], dataset: Dataset, timing: Timing) -> Scenario:
    """GET /notes, the HTML list, with a cookie session from each app's own sign-in form."""
    service, original = servers["service"], servers["original"]
    account = dataset.reader
    cookies = {
        service: clients.service_cookie(service.url, account.email, dataset.password),
        original: clients.original_cookie(original.url, account.email, dataset.password),
    }
    cases = tuple(
        Case(server.name, wrk.Load(f"{server.url}/notes", 64, timing.short_seconds, (cookie,)))
        for server, cookie in cookies.items()
    )
    return Scenario("html-c64", "GET /notes (HTML) c=64", cases)


def api_writes(servers: dict[str, Server], dataset: Dataset, timing: Timing) -> Scenario:
    """POST /api/notes as the writer, whose notes nobody reads (the readers' lists never grow)."""
    writer = clients.bearer(dataset.writer.token)
    cases = tuple(
        Case(
            name,
            wrk.Load(f"{servers[name].url}/api/notes", 64, timing.short_seconds, (writer,), POST_SCRIPT),
            expect_status=None,
        )
        for name in ("service", "original")
    )
    return Scenario("post-c64", "POST /api/notes c=64", cases)


def login_isolation(service: Server, dataset: Dataset, timing: Timing) -> Scenario:
    """Reads with and without a sign-in flood at cost 12, and the flood alone for its throughput.

    The flood alone says whether sign-ins can use both cores; with reads running too they must share
    them, so its rate there is reported but not held to the target.
    """
    reader = clients.bearer(dataset.reader.token)
    reads = wrk.Load(f"{service.url}/api/notes", READS_DURING_LOGINS, timing.short_seconds, (reader,))
    clients.expect(
        f"{service.url}/api/token",
        None,
        200,
        method="POST",
        json={"email": dataset.writer.email, "password": dataset.password},
    )

    def flood() -> AbstractAsyncContextManager[logins.Flood]:
        return logins.flood(service.url, logins.token_sign_in(dataset.writer.email, dataset.password))

    flooding = f"{logins.CLIENTS} clients signing in"
    cases = (
        Case(service.name, reads, f"GET c={READS_DURING_LOGINS}, quiet", key="quiet"),
        Case(service.name, reads, f"GET c={READS_DURING_LOGINS}, {flooding}", key="flood", sign_ins=flood),
        Case(
            service.name,
            None,
            f"POST /api/token, {flooding}",
            key="sign-ins",
            sign_ins=flood,
            seconds=timing.flood_seconds,
        ),
    )
    return Scenario("logins", "login isolation, bcrypt cost 12", cases)


def depth(service: Server, dataset: Dataset, timing: Timing) -> Scenario:
    """The first and the last (by cursor) page of 100,000 notes against the 20-note user's page.

    Every case asks for DEPTH_PAGE notes, so all three return the same amount: only the depth differs.
    """
    deep = dataset.deep
    first_page = f"{service.url}/api/notes?limit={DEPTH_PAGE}"
    last_page = clients.last_page_url(service.url, deep.token, total=deep.notes, page=DEPTH_PAGE)

    def case(key: str, variant: str, url: str, token: str) -> Case:
        load = wrk.Load(url, 64, timing.short_seconds, (clients.bearer(token),))
        return Case(service.name, load, variant, key=key)

    cases = (
        case("small", f"{dataset.reader.notes} notes", first_page, dataset.reader.token),
        case("deep-first", f"{deep.notes:,} notes, first page", first_page, deep.token),
        case("deep-last", f"{deep.notes:,} notes, last page", last_page, deep.token),
    )
    return Scenario("depth", f"GET /api/notes?limit={DEPTH_PAGE} c=64, by depth", cases)


def search(service: Server, dataset: Dataset, timing: Timing) -> Scenario:
    """`GET /api/notes?q=` for the 100,000-note user, among 1.1 million notes, against its plain list.

    The word is in 1 % of every user's notes (so FTS5 finds 11,000 and the author's are 1,000 of
    them); the prefix query finds the same notes through FTS5's prefix path. Every case asks for the
    first page of DEPTH_PAGE notes, and the check before measuring makes sure each returns that many.
    """
    deep = dataset.deep
    header = clients.bearer(deep.token)
    base = f"{service.url}/api/notes?limit={DEPTH_PAGE}"

    def case(key: str, variant: str, url: str) -> Case:
        clients.expect_notes(url, header, DEPTH_PAGE)
        return Case(service.name, wrk.Load(url, 64, timing.short_seconds, (header,)), variant, key=key)

    cases = (
        case("plain", f"{deep.notes:,} notes, plain first page", base),
        case("word", f"q={SEARCH_WORD}, first page", f"{base}&q={SEARCH_WORD}"),
        case("prefix", f"q={SEARCH_PREFIX}*, first page", f"{base}&q={SEARCH_PREFIX}%2A"),
    )
    return Scenario("search", f"GET /api/notes?q=…&limit={DEPTH_PAGE} c=64, 1.1 M notes", cases)
