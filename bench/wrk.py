"""Drive bounded load with wrk and read its report.

wrk is an efficient C load generator: one Python client could not saturate even the original app, so
every closed-loop scenario uses it. Errors are socket errors (connect, read, write, timeout: wrk gives
up on a request after 2 s) plus responses outside 2xx/3xx; 3xx passes as success in wrk, which is why
every URL is checked for the expected status before it is measured.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import asdict, dataclass
from pathlib import Path

WRK = "wrk"
THREADS = 2
UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Load:
    """What one wrk run sends: GET (or what `script` makes it) to `url` over `connections`."""

    url: str
    connections: int
    seconds: float
    headers: tuple[str, ...] = ()
    script: Path | None = None

    def command(self) -> list[str]:
        threads = min(THREADS, self.connections)
        command = [WRK, f"-t{threads}", f"-c{self.connections}", f"-d{self.seconds:g}s", "--latency"]
        for header in self.headers:
            command += ["-H", header]
        if self.script is not None:
            command += ["-s", str(self.script)]
        return [*command, self.url]


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    socket_errors: int
    bad_status: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


async def run(load: Load) -> Result:
    """Run wrk to completion (killing it if we are cancelled) and parse its report."""
    process = await asyncio.create_subprocess_exec(
        *load.command(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        output, _ = await process.communicate()
    except asyncio.CancelledError:
        process.kill()
        await process.wait()
        raise
    text = output.decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {' '.join(load.command())}\n{text}")
    return parse(text)


def parse(text: str) -> Result:
    """Read requests/sec, the 50th and 99th latency percentiles, and errors from wrk --latency output."""
    rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
    total = re.search(r"(\d+) requests in", text)
    if rate is None or total is None:
        raise ValueError(f"not a wrk report:\n{text}")
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    socket_errors = sum(int(count) for count in socket.groups()) if socket else 0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    bad_status = int(bad.group(1)) if bad else 0
    return Result(
        requests_per_second=float(rate.group(1)),
        p50_ms=_percentile(text, "50"),
        p99_ms=_percentile(text, "99"),
        requests=int(total.group(1)),
        errors=socket_errors + bad_status,
        socket_errors=socket_errors,
        bad_status=bad_status,
    )


def _percentile(text: str, percent: str) -> float:
    found = re.search(rf"^\s+{percent}(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", text, re.MULTILINE)
    if found is None:
        return float("nan")  # no request completed
    return float(found.group(1)) * UNITS_MS[found.group(2)]
