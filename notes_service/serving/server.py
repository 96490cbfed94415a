"""`notes-service serve`: hypercorn workers under a small supervisor that drains on SIGTERM.

hypercorn's own multi-worker runner lets the parent exit, and terminate the other workers, as soon as
the first worker has stopped, and its workers die at once on a SIGTERM of their own; both cut requests
in flight. Here the workers ignore SIGTERM/SIGINT and stop only when the supervisor sets the shared
shutdown event: each stops accepting, finishes what it has (up to `graceful_timeout` from
hypercorn.toml) and exits; the supervisor waits for all of them before it exits, and kills only
workers still running past the drain time. A worker that dies unexpectedly is replaced.

The supervisor imports the application once (with its database driver, and the workers' event loop
class), keeps what it built out of the garbage collector (`gc.freeze()`), and forks the workers from
there: they share those pages copy-on-write instead of each importing everything again. Nothing
that must not cross a fork exists yet at that point: engines, pools, event loops and threads are all
opened by each worker when it starts serving.

An application that cannot load (a database URL that cannot be read, a driver that is not
installed) stops `serve` at once with the reason in one line and exit status 3 (systemd's unit does
not restart on it). Replacing is only right for a worker that had served: one that dies while
starting (a SQLite file that cannot be opened) would die again, forever, so the supervisor stops
with the worker's reason in one line and status 3 too. A crash loop later (CRASH_LOOP_DEATHS within
CRASH_LOOP_SECONDS) stops it too, with status 1.

Each worker listens on a socket of its own (serving/listeners.py: SO_REUSEPORT, so the kernel spreads new
connections evenly) and, on uvloop, accepts every queued connection at each wakeup (serving/accepting.py).
A replacement takes over its predecessor's socket and the connections queued on it.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import logging
import os
import select
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import click
from hypercorn.asyncio.run import worker_serve
from hypercorn.config import Config, Sockets
from hypercorn.typing import AppWrapper
from hypercorn.utils import load_application

from ..config import DEFAULT_DATABASE_URL
from ..data.dberrors import describe_any, one_line
from ..http.logs import configure_logging
from . import worker as this_worker
from .listeners import close_all, worker_sockets

ROOT = Path(__file__).resolve().parent.parent
APPLICATION = "notes_service.asgi:app"
KILL_MARGIN_SECONDS = 5
LINGER_SECONDS = 1.0
STARTUP_FAILED = 3  # exit status: the app or a worker could not start (gunicorn uses 3 for the same)
CRASH_LOOP = 1
CRASH_LOOP_DEATHS = 5
CRASH_LOOP_SECONDS = 60.0
READY = "ready"
LoopFactory = Callable[[], asyncio.AbstractEventLoop]
log = logging.getLogger("notes_service.serving.server")


def load_config(
    bind: str | None = None,
    workers: int | None = None,
    drain_seconds: float | None = None,
    application: str = APPLICATION,
) -> Config:
    """hypercorn.toml (from the current directory, else the checkout), then the command line."""
    for candidate in (Path("hypercorn.toml"), ROOT / "hypercorn.toml"):
        if candidate.exists():
            config = Config.from_toml(candidate)
            break
    else:
        config = Config()
    config.application_path = application
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


def run(
    bind: str | None = None,
    workers: int | None = None,
    drain_seconds: float | None = None,
    application: str = APPLICATION,
) -> int:
    """Serve until SIGTERM/SIGINT, then drain; returns the exit code.

    `application` is another ASGI app's import path only for the benchmark's ceiling, which is
    measured under this same server.
    """
    configure_logging()
    config = load_config(bind, workers, drain_seconds, application)
    try:
        app = load_application(config.application_path, config.wsgi_max_body_size)
        loop_factory = _loop_factory(config)
    except Exception as error:  # whatever stops the import, say it in one line
        database_url = os.environ.get("NOTES_DATABASE_URL", DEFAULT_DATABASE_URL)
        click.echo(f"Error: the application could not load: {one_line(error, database_url)}", err=True)
        return STARTUP_FAILED
    # Everything loaded so far lives as long as the workers: keep it out of the garbage collector's
    # full passes (they walk every object, a latency spike, and would write to the shared pages).
    gc.collect()
    gc.freeze()
    return Supervisor(config, worker_sockets(config), app, loop_factory).run()


def _loop_factory(config: Config) -> LoopFactory | None:
    """The workers' event loop class, imported here in the supervisor so that they share uvloop's
    module instead of each importing it after the fork (3.7 MiB of private memory a worker)."""
    if config.worker_class != "uvloop":
        return None
    from .accepting import AcceptingLoop

    return AcceptingLoop


def _worker(
    app: AppWrapper,
    config: Config,
    loop_factory: LoopFactory | None,
    slots: list[Sockets],
    slot: int,
    shutdown_fd: int,
    reports: Connection,
) -> None:
    """A worker process: deaf to signals, it stops when the supervisor says so.

    It serves on the sockets of its `slot` (and closes its copies of the other workers'). It
    reports READY once it accepts connections; if it fails before that, it sends the reason
    instead and exits with STARTUP_FAILED (the supervisor prints the one line, not a traceback).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    this_worker.started(slot)
    sockets = slots[slot]
    close_all([other for other in slots if other is not sockets])
    ready = False
    database_url = os.environ.get("NOTES_DATABASE_URL", DEFAULT_DATABASE_URL)
    # Quart logs a failed start-up with its traceback; for a known database problem the supervisor's
    # one line says it all, so that traceback is left out (any other stays: it is a bug to read).
    app_logger = logging.getLogger("notes_service")
    quiet = _QuietKnownProblems(database_url)
    app_logger.addFilter(quiet)

    def report_ready() -> None:
        nonlocal ready
        ready = True
        app_logger.removeFilter(quiet)
        reports.send(READY)

    try:
        with asyncio.Runner(loop_factory=loop_factory) as runner:
            stopped = partial(_stopped, shutdown_fd, report_ready)
            runner.run(worker_serve(app, config, sockets=sockets, shutdown_trigger=stopped))
    except Exception as error:
        if ready:
            raise
        reports.send(one_line(error, database_url))
        sys.exit(STARTUP_FAILED)


class _QuietKnownProblems(logging.Filter):
    """Drop log records whose exception data/dberrors.py can say in one line."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        self.database_url = database_url

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return error is None or describe_any(error, self.database_url) is None


async def _stopped(shutdown_fd: int, report_ready: Callable[[], None]) -> None:
    """Say we are ready (hypercorn awaits this once its sockets accept), then return LINGER_SECONDS
    after the supervisor asked us to stop.

    hypercorn closes idle keep-alive connections the moment it stops, losing any request a client had
    just written to one. Serving on for a moment first means that every request sent before the
    SIGTERM is read and answered; only requests sent later can meet a closing connection. Requests
    that would never finish (event streams) are told to end before that moment (`this_worker.stop`).
    """
    report_ready()
    while not select.select([shutdown_fd], [], [], 0)[0]:  # noqa: ASYNC110 - a plain pipe, polled
        await asyncio.sleep(0.1)
    this_worker.stop()  # open event streams end now, not at the end of the drain (serving/worker.py)
    await asyncio.sleep(LINGER_SECONDS)


@dataclass
class Worker:
    process: BaseProcess
    slot: int  # which of the supervisor's listening socket sets it serves on
    reports: Connection  # READY, or why it could not start
    ready: bool = False
    reason: str | None = None

    def read_reports(self) -> None:
        try:
            while self.reports.poll():
                message = self.reports.recv()
                if message == READY:
                    self.ready = True
                    log.info("event=worker_ready pid=%s", self.process.pid)
                else:
                    self.reason = message
        except (EOFError, OSError):
            pass  # the worker is gone; its sentinel says so too


class Supervisor:
    def __init__(
        self,
        config: Config,
        sockets: list[Sockets],
        app: AppWrapper,
        loop_factory: LoopFactory | None = None,
        crash_loop_deaths: int = CRASH_LOOP_DEATHS,
        crash_loop_seconds: float = CRASH_LOOP_SECONDS,
    ) -> None:
        self.config = config
        self.sockets = sockets
        self.app = app
        self.loop_factory = loop_factory
        self.context = get_context("fork")  # workers share the imported application (see above)
        # The supervisor asks its workers to stop by writing to a pipe they watch (never read). Not a
        # multiprocessing Event: a worker killed while it held the Event's lock would leave every
        # later set() and is_set() waiting for ever (a crash-loop stop hung that way in CI).
        self.shutdown_fd, writer = os.pipe()
        self.shutdown_writer: int | None = writer
        self.stopping = False
        self.exitcode = 0
        self.failure: str | None = None
        self.announced = False
        self.workers: list[Worker] = []
        self.deaths: deque[float] = deque(maxlen=crash_loop_deaths)
        self.crash_loop_seconds = crash_loop_seconds

    def run(self) -> int:
        for name in ("SIGTERM", "SIGINT"):
            signal.signal(getattr(signal, name), self._stop)
        self._start(range(self.config.workers))
        while not self.stopping:
            waitables = [w.process.sentinel for w in self.workers] + [w.reports for w in self.workers]
            wait(waitables, timeout=1)
            for worker in self.workers:
                worker.read_reports()
            self._announce()
            self._replace_exited()
        drained = self._drain()
        if self.failure is not None:
            click.echo(f"Error: {self.failure}", err=True)  # last, below the other workers' output
        return drained or self.exitcode

    def _stop(self, signum: int, _frame: Any) -> None:
        if not self.stopping:
            log.info("event=shutdown signal=%s drain_seconds=%s", signum, self.config.graceful_timeout)
        self.stopping = True
        self._tell_workers_to_stop()

    def _fail(self, exitcode: int, reason: str) -> None:
        """Stop every worker and exit with `exitcode`, saying why in one line."""
        self.failure = reason
        self.exitcode = exitcode
        self.stopping = True
        self._tell_workers_to_stop()

    def _tell_workers_to_stop(self) -> None:
        """Make the shutdown pipe readable for every worker (once; safe in a signal handler)."""
        if self.shutdown_writer is not None:
            os.write(self.shutdown_writer, b"!")
            os.close(self.shutdown_writer)
            self.shutdown_writer = None

    def _announce(self) -> None:
        """Say "listening" once every first worker accepts connections, not before."""
        if not self.announced and all(worker.ready for worker in self.workers):
            self.announced = True
            for address in self.config.bind:
                click.echo(f"notes-service listening on http://{address} ({self.config.workers} worker(s))")

    def _start(self, slots: Iterable[int]) -> None:
        for slot in slots:
            reports, worker_end = self.context.Pipe(duplex=False)
            process = self.context.Process(
                target=_worker,
                args=(
                    self.app,
                    self.config,
                    self.loop_factory,
                    self.sockets,
                    slot,
                    self.shutdown_fd,
                    worker_end,
                ),
                daemon=False,
            )
            process.start()
            worker_end.close()  # the worker holds the only writing end: EOF when it dies
            self.workers.append(Worker(process, slot, reports))

    def _replace_exited(self) -> None:
        exited = [worker for worker in self.workers if not worker.process.is_alive()]
        if not exited or self.stopping:
            return
        self.workers = [worker for worker in self.workers if worker.process.is_alive()]
        for worker in exited:
            worker.read_reports()  # it may have said why just before it died
            worker.reports.close()
            if not worker.ready:
                reason = worker.reason or f"exit status {worker.process.exitcode}"
                self._fail(STARTUP_FAILED, f"a worker could not start: {reason}")
                return
            log.error("event=worker_exited pid=%s exitcode=%s", worker.process.pid, worker.process.exitcode)
            self.deaths.append(time.monotonic())
        window = self.deaths[-1] - self.deaths[0] if self.deaths else 0.0
        if len(self.deaths) == self.deaths.maxlen and window <= self.crash_loop_seconds:
            self._fail(
                CRASH_LOOP,
                f"{len(self.deaths)} workers died within {self.crash_loop_seconds:g} s: a crash loop, "
                "stopping (their tracebacks are above)",
            )
            return
        self._start(worker.slot for worker in exited)

    def _drain(self) -> int:
        """Wait for every worker to finish its requests; kill those past the drain time."""
        deadline = time.monotonic() + self.config.graceful_timeout + KILL_MARGIN_SECONDS
        processes = [worker.process for worker in self.workers]
        for process in processes:
            process.join(max(deadline - time.monotonic(), 0))
        exitcode = 0
        for process in processes:
            if process.is_alive():
                log.error("event=worker_killed pid=%s reason=drain_timeout", process.pid)
                process.kill()
                process.join()
                exitcode = 1
        close_all(self.sockets)
        return exitcode
