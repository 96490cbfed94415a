"""The export of the 100,000-note user: `GET /settings/export` with its browser session, timed from
the request to the last byte, with the workers' memory watched while it streams.

The export promises constant memory (notes_service/http/export.py reads and writes 500 notes at a time),
so what matters is how much a worker grows while serving it: VmRSS of each worker is sampled every
few milliseconds in a thread during the download, and the largest rise over its value just before
is reported, next to the rise of VmHWM (the kernel's peak, which moves only when the export goes
above everything the worker did before). The body is then parsed and must hold every note.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import orjson

from .servers import Server, status_mib

SAMPLE_SECONDS = 0.005


class RssWatch:
    """Samples VmRSS of `pids` in a thread until stopped; the peak of each, in MiB."""

    def __init__(self, pids: list[int]) -> None:
        self.before = {pid: status_mib(pid, "VmRSS") for pid in pids}
        self.peak = dict(self.before)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.stopping.wait(SAMPLE_SECONDS):
            for pid in self.peak:
                self.peak[pid] = max(self.peak[pid], status_mib(pid, "VmRSS"))

    def __enter__(self) -> RssWatch:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        self.thread.join()

    def rise(self) -> float:
        """The largest growth of one worker during the watch."""
        return max(self.peak[pid] - self.before[pid] for pid in self.peak)


class ExportProbe:
    """One download of the whole export, checked to hold `notes` notes."""

    connections = 1

    def __init__(self, service: Server, cookie: str, notes: int) -> None:
        self.service = service
        self.headers = dict([cookie.split(": ", 1)])
        self.notes = notes

    async def run(self) -> dict[str, Any]:
        workers = self.service.workers()
        peaks_before = {pid: status_mib(pid, "VmHWM") for pid in workers}
        async with httpx.AsyncClient(base_url=self.service.url, timeout=120, trust_env=False) as http:
            with RssWatch(workers) as watch:
                started = time.monotonic()
                async with http.stream("GET", "/settings/export", headers=self.headers) as response:
                    body = b"".join([chunk async for chunk in response.aiter_bytes()])
                seconds = time.monotonic() - started
        found = _notes_in(body) if response.status_code == 200 else None
        return {
            "requests_per_second": 1 / seconds,
            "p50_ms": seconds * 1000,
            "p99_ms": seconds * 1000,
            "requests": 1,
            "errors": int(found != self.notes),
            "notes": found,
            "megabytes": len(body) / 1e6,
            "rss_rise_mib": watch.rise(),
            "hwm_rise_mib": max(status_mib(pid, "VmHWM") - peaks_before[pid] for pid in workers),
        }


def _notes_in(body: bytes) -> int | None:
    """How many notes the export holds; None when it is not the export's JSON."""
    try:
        notes = orjson.loads(body)["notes"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return len(notes) if isinstance(notes, list) else None
