"""`notes-service serve`: hypercorn workers under a small supervisor that drains on SIGTERM.

hypercorn's own multi-worker runner lets the parent exit, and terminate the other workers, as soon as
the first worker has stopped, and its workers die at once on a SIGTERM of their own; both cut requests
in flight. Here the workers ignore SIGTERM/SIGINT and stop only when the supervisor sets the shared
shutdown event: each stops accepting, finishes what it has (up to `graceful_timeout` from
hypercorn.toml) and exits; the supervisor waits for all of them before it exits, and kills only
workers still running past the drain time. A worker that dies unexpectedly is replaced.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import logging
import os
import signal
import time
from functools import partial
from multiprocessing import get_context
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event
from pathlib import Path
from typing import Any

import click
from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.utils import load_application

from .logs import configure_logging

ROOT = Path(__file__).resolve().parent.parent
APPLICATION = "notes_service.asgi:app"
KILL_MARGIN_SECONDS = 5
LINGER_SECONDS = 1.0
log = logging.getLogger("notes_service.server")


def load_config(
    bind: str | None = None, workers: int | None = None, drain_seconds: float | None = None
) -> Config:
    """hypercorn.toml (from the current directory, else the checkout), then the command line."""
    for candidate in (Path("hypercorn.toml"), ROOT / "hypercorn.toml"):
        if candidate.exists():
            config = Config.from_toml(candidate)
            break
    else:
        config = Config()
    config.application_path = APPLICATION
    if bind:
        config.bind = [bind]
    if workers:
        config.workers = workers
    if drain_seconds is not None:
        config.graceful_timeout = drain_seconds
    config.workers = max(config.workers, 1)
    if importlib.util.find_spec("uvloop") is not None:
        config.worker_class = "uvloop"
    return config


def run(bind: str | None = None, workers: int | None = None, drain_seconds: float | None = None) -> int:
    """Serve until SIGTERM/SIGINT, then drain; returns the exit code."""
    # Fewer glibc malloc arenas for the workers' threads (bcrypt, aiosqlite): a smaller footprint.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    configure_logging()
    config = load_config(bind, workers, drain_seconds)
    sockets = config.create_sockets()
    for address in config.bind:
        click.echo(f"notes-service listening on http://{address} ({config.workers} worker(s))")
    return Supervisor(config, sockets).run()


def _worker(config: Config, sockets: Sockets, shutdown_event: Event) -> None:
    """A worker process: deaf to signals, it stops when the supervisor says so."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    loop_factory = None
    if config.worker_class == "uvloop":
        import uvloop

        loop_factory = uvloop.new_event_loop
    app = load_application(config.application_path, config.wsgi_max_body_size)
    # Everything loaded so far lives as long as the worker: keep it out of the garbage collector's
    # full passes, which otherwise walk every imported object and show up as latency spikes.
    gc.collect()
    gc.freeze()
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        stopped = partial(_stopped, shutdown_event)
        runner.run(worker_serve(app, config, sockets=sockets, shutdown_trigger=stopped))


async def _stopped(shutdown_event: Event) -> None:
    """Return LINGER_SECONDS after the supervisor asked us to stop.

    hypercorn closes idle keep-alive connections the moment it stops, losing any request a client had
    just written to one. Serving on for a moment first means that every request sent before the
    SIGTERM is read and answered; only requests sent later can meet a closing connection.
    """
    while not shutdown_event.is_set():  # noqa: ASYNC110 - a multiprocessing Event cannot be awaited
        await asyncio.sleep(0.1)
    await asyncio.sleep(LINGER_SECONDS)


class Supervisor:
    def __init__(self, config: Config, sockets: Sockets) -> None:
        self.config = config
        self.sockets = sockets
        self.context = get_context("spawn")
        self.shutdown = self.context.Event()
        self.stopping = False
        self.workers: list[BaseProcess] = []

    def run(self) -> int:
        for name in ("SIGTERM", "SIGINT"):
            signal.signal(getattr(signal, name), self._stop)
        self._start(self.config.workers)
        while not self.stopping:
            exited = wait([worker.sentinel for worker in self.workers], timeout=1)
            if exited and not self.stopping:
                self._replace_exited()
        return self._drain()

    def _stop(self, signum: int, _frame: Any) -> None:
        if not self.stopping:
            log.info("event=shutdown signal=%s drain_seconds=%s", signum, self.config.graceful_timeout)
        self.stopping = True
        self.shutdown.set()

    def _start(self, count: int) -> None:
        for _ in range(count):
            worker = self.context.Process(
                target=_worker, args=(self.config, self.sockets, self.shutdown), daemon=False
            )
            worker.start()
            self.workers.append(worker)

    def _replace_exited(self) -> None:
        alive = [worker for worker in self.workers if worker.is_alive()]
        for worker in self.workers:
            if not worker.is_alive():
                log.error("event=worker_exited pid=%s exitcode=%s", worker.pid, worker.exitcode)
        self.workers = alive
        time.sleep(0.5)  # do not spin if workers die at start
        self._start(self.config.workers - len(alive))

    def _drain(self) -> int:
        """Wait for every worker to finish its requests; kill those past the drain time."""
        deadline = time.monotonic() + self.config.graceful_timeout + KILL_MARGIN_SECONDS
        for worker in self.workers:
            worker.join(max(deadline - time.monotonic(), 0))
        exitcode = 0
        for worker in self.workers:
            if worker.is_alive():
                log.error("event=worker_killed pid=%s reason=drain_timeout", worker.pid)
                worker.kill()
                worker.join()
                exitcode = 1
        for sock in [*self.sockets.secure_sockets, *self.sockets.insecure_sockets]:
            sock.close()
        return exitcode
