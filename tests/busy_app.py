"""A tiny ASGI app that keeps its worker's event loop busy, for tests of how `serve` accepts.

Served with `notes-service serve --app tests.busy_app:app` (PYTHONPATH = the checkout) and
BUSY_APP_DIR set: `GET /hold` blocks the whole loop until the test creates `release` in that
directory (it creates `held` first, so the test knows), `GET /work` blocks it for WORK_SECONDS,
anything else answers at once.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

WORK_SECONDS = 0.05
HOLD_LIMIT_SECONDS = 30.0


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    _block(scope["path"], Path(os.environ["BUSY_APP_DIR"]))
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _block(path: str, directory: Path) -> None:
    """Called on the event loop on purpose: nothing else in this worker runs meanwhile."""
    if path == "/hold":
        (directory / "held").touch()
        deadline = time.monotonic() + HOLD_LIMIT_SECONDS
        while not (directory / "release").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    elif path == "/work":
        time.sleep(WORK_SECONDS)
