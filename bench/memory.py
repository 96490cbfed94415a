"""The service's memory with 1, 2 and 4 workers: `notes-service serve --workers N` on the service's own
database, after `seconds` of `GET /api/notes` at c=64 (so every worker has served), one N at a time
while the other servers stand idle.

For each N: the PSS of the supervisor and its workers summed (a page shared by k processes counts
1/k in each, so the sum counts it once) and each worker's private memory (pages no other process
maps), both from /proc/PID/smaps_rollup. What the workers share is what the supervisor imported
before forking them (notes_service/serving/server.py).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from . import wrk
from .servers import service

WORKER_COUNTS = (1, 2, 4)


async def by_workers(workdir: Path, env: dict[str, str], header: str, seconds: float) -> list[dict[str, Any]]:
    """One record per worker count: workers, tree_pss_mib, workers_private_mib. Raises when a server
    does not start or its load has errors."""
    records = []
    for workers in WORKER_COUNTS:
        server = service(f"memory-{workers}", workdir / f"memory-{workers}", env, workers)
        server.launch()
        try:
            await asyncio.to_thread(server.wait_ready)
            load = await wrk.run(wrk.Load(f"{server.url}/api/notes", 64, seconds, (header,)))
            if load.errors or not load.requests:
                raise RuntimeError(
                    f"{load.errors} errors in {load.requests} requests: not a load to measure after"
                )
            records.append({"workers": workers, **server.memory()})
        finally:
            server.stop()
    return records
