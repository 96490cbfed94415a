"""`notes-service serve` with the supervisor's replacement delays chosen by the test, for
tests/test_supervisor.py.

`python -m tests.supervised --first 0.01 --most 0.04 --reset 60 --bind HOST:PORT [--workers N]
[--app IMPORT_PATH]` runs server.run() as `notes-service serve` does, with that Backoff: tests kill
workers in quick succession and read the delays from the log instead of waiting out the production
ones. Workers leave no core file when a test kills them with SIGSEGV.

Its own `app` (`--app tests.supervised:app`, PYTHONPATH = the checkout) answers 200 to everything,
and its workers die of a SIGSEGV while starting whenever the file named by DIE_STARTING exists: a
worker that cannot start and, unlike one whose start-up raises, cannot say why.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys
from pathlib import Path
from typing import Any

from notes_service.serving.server import APPLICATION, Backoff, run


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _die_if_told()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _die_if_told() -> None:
    """Die as a crash in C would, if told to: in the lifespan start-up, before the worker is ready."""
    if Path(os.environ["DIE_STARTING"]).exists():
        os.kill(os.getpid(), signal.SIGSEGV)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", type=float, required=True)
    parser.add_argument("--most", type=float, required=True)
    parser.add_argument("--reset", type=float, required=True)
    parser.add_argument("--bind", required=True)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--app", default=APPLICATION)
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # inherited by the forked workers
    backoff = Backoff(first=args.first, most=args.most, reset=args.reset)
    return run(bind=args.bind, workers=args.workers, application=args.app, backoff=backoff)


if __name__ == "__main__":
    sys.exit(main())
