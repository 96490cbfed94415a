"""Sign-in load: a flood of sign-ins (`POST /api/token`, or another flow), and what two cores could do
at best.

The flood is 8 async clients, each signing in again as soon as its previous sign-in returns, each
with a connection and a cookie jar of its own (emptied before each sign-in, as a new browser's). It is
Python rather than wrk because wrk cannot say when each response completed: a sign-in at cost 12 takes
a quarter of a second, and a wrk run that stops with 8 of them half done under-counts by several
percent. Here only the sign-ins that finish inside the measured window count, after a ramp, so the
start and the end of the flood are left out; when it stops, the clients finish the sign-ins they have
in flight (nothing is cut off, so the server is idle again for the next case). The best possible rate is
2 cores / the time of one bcrypt_sha256 hash at the same cost, timed in this process just before
each flood (verifying a password costs one hash).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx

from . import wrk
from .seed import bcrypt_sha256

BCRYPT_ROUNDS = 12  # the cost the benchmark's service hashes at, as deployed
CLIENTS = 8
CORES = 2
STOP_TIMEOUT = 30.0
# One whole sign-in on the client given (its base URL set, its cookies empty): True when it worked.
SignIn = Callable[[httpx.AsyncClient], Awaitable[bool]]


def one_hash_seconds(rounds: int, samples: int = 3) -> float:
    """Median wall time of one bcrypt_sha256 hash at `rounds`, on an otherwise idle machine."""
    context = bcrypt_sha256(rounds)
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        context.hash("benchmark password")
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


@dataclass
class Flood:
    """When each sign-in finished (time.monotonic), how long it took, and when failures happened."""

    finished: list[tuple[float, float]] = field(default_factory=list)
    failed: list[float] = field(default_factory=list)

    def result(self, start: float, end: float) -> wrk.Result:
        """The sign-ins that finished between `start` and `end`, summarized like a wrk run."""
        latencies = sorted(seconds * 1000 for moment, seconds in self.finished if start <= moment <= end)
        errors = sum(start <= moment <= end for moment in self.failed)
        return wrk.Result(
            requests_per_second=len(latencies) / (end - start),
            p50_ms=percentile(latencies, 50),
            p99_ms=percentile(latencies, 99),
            requests=len(latencies),
            errors=errors,
            socket_errors=0,
            bad_status=errors,
        )


def percentile(values: list[float], percent: int) -> float:
    """The value at `percent` of sorted `values` (nearest rank), NaN for none."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(percent / 100 * (len(values) - 1)))]


def token_sign_in(email: str, password: str) -> SignIn:
    """`POST /api/token` with the password: one bcrypt hash."""
    body = {"email": email, "password": password, "name": "login flood"}

    async def sign_in(http: httpx.AsyncClient) -> bool:
        return (await http.post("/api/token", json=body)).status_code == 200

    return sign_in


@asynccontextmanager
async def flood(base_url: str, sign_in: SignIn, clients: int = CLIENTS) -> AsyncIterator[Flood]:
    """Keep `clients` sign-in loops running for the duration of the `async with` block."""
    record, stopping = Flood(), asyncio.Event()

    async def sign_in_until_stopped() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60, trust_env=False) as http:
            while not stopping.is_set():
                http.cookies.clear()
                started = time.monotonic()
                try:
                    ok = await sign_in(http)
                except (httpx.HTTPError, RuntimeError):  # RuntimeError: a page without its form
                    ok = False
                now = time.monotonic()
                if ok:
                    record.finished.append((now, now - started))
                else:
                    record.failed.append(now)

    tasks = [asyncio.create_task(sign_in_until_stopped()) for _ in range(clients)]
    try:
        yield record
    finally:
        stopping.set()
        _, unfinished = await asyncio.wait(tasks, timeout=STOP_TIMEOUT)
        for task in unfinished:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
