"""`notes-service serve`: hypercorn workers under a small supervisor that drains on SIGTERM.

hypercorn's own multi-worker runner lets the parent exit, and terminate the other workers, as soon as
the first worker has stopped, and its workers die at once on a SIGTERM of their own; both cut requests
in flight. Here the workers ignore SIGTERM/SIGINT and stop only when the supervisor writes to the
shutdown pipe they watch: each stops accepting, finishes what it has (up to `graceful_timeout` from
hypercorn.toml) and exits; the supervisor waits for all of them before it exits, and kills only
workers still running past the drain time. A worker that dies unexpectedly is replaced.

The supervisor imports the application once (with its database driver, and the workers' event loop
class), keeps what it built out of the garbage collector (`gc.freeze()`), and forks the workers from
there: they share those pages copy-on-write instead of each importing everything again. Nothing
that must not cross a fork exists yet at that point: engines, pools, event loops and threads are all
opened by each worker when it starts serving.

An application that cannot load (a database URL that cannot be read, a driver that is not
installed) stops `serve` at once with the reason in one line and exit status 3 (systemd's unit does
not restart on it). Replacing is only right for a worker that had become ready: one that dies while
starting (a SQLite file that cannot be opened), a replacement as much as a first worker, would die
again, forever, so the supervisor stops with the worker's reason in one line and status 3 too. That
is the only death that stops `serve`.

A worker that dies after it reported ready is always replaced, however often it happens: a request
can kill the worker that serves it (a crash in a C extension), and no number of such requests may
stop the service (SPEC §6), so there is no crash-loop stop for serving workers. The replacement waits
a little first (`Backoff`: 0.1 s, doubled each time the slot's worker dies within 10 s of becoming
ready, at most 2 s), so that workers dying as fast as they start do not keep the machine forking.
Every death is one `event=worker_died` line with its reason and that delay.

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
from .limits import raise_open_files_limit
from .listeners import close_all, worker_sockets

ROOT = Path(__file__).resolve().parents[2]  # the repository, where hypercorn.toml is
APPLICATION = "notes_service.asgi:app"
KILL_MARGIN_SECONDS = 5
LINGER_SECONDS = 1.0
STARTUP_FAILED = 3  # exit status: the app or a worker could not start (gunicorn uses 3 for the same)
WAKE_SECONDS = 1.0  # the supervisor looks at its workers at least this often
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
    backoff: Backoff | None = None,
) -> int:
    """Serve until SIGTERM/SIGINT, then drain; returns the exit code.

    `application` is another ASGI app's import path only for the benchmark's ceiling, which is
    measured under this same server; `backoff` other replacement delays only for tests, which kill
    workers in quick succession and must not wait the production delays out.
    """
    configure_logging()
    raise_open_files_limit()  # before the workers fork: they inherit it
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
    return Supervisor(config, worker_sockets(config), app, loop_factory, backoff or Backoff()).run()


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

    READY is written before this worker runs any request: hypercorn starts this task right after
    registering its listeners, and a connection's task is queued behind it. So a request that kills
    its worker always kills a ready one, which is replaced, never one taken for a worker that cannot
    start (which would stop `serve`).

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


@dataclass(frozen=True)
class Backoff:
    """How long a slot stays empty after its worker died while serving.

    Short, because the dead worker's socket still gets its share of new connections (SO_REUSEPORT),
    which wait in its queue until the replacement accepts them; growing, because a worker that dies
    soon after it became ready will likely die again, and forking and starting it costs CPU the
    other workers need. A worker that served `reset` seconds or more was healthy: the next delay
    starts over.
    """

    first: float = 0.1
    most: float = 2.0
    reset: float = 10.0

    def after(self, previous: float | None, served: float) -> float:
        """The delay after a death; `previous` is the slot's last delay, `served` the dead worker's
        seconds since it became ready."""
        if previous is None or served >= self.reset:
            return self.first
        return min(previous * 2, self.most)


def _death(exitcode: int | None) -> str:
    """A worker's end in one word: the signal that killed it, else its exit status."""
    if exitcode is not None and exitcode < 0:
        try:
            return signal.Signals(-exitcode).name
        except ValueError:
            return f"signal_{-exitcode}"
    return f"exit_status_{exitcode}"


@dataclass
class Worker:
    process: BaseProcess
    slot: int  # which of the supervisor's listening socket sets it serves on
    reports: Connection  # READY, or why it could not start
    ready_at: float | None = None  # the supervisor's monotonic time when it read READY
    reason: str | None = None

    @property
    def ready(self) -> bool:
        return self.ready_at is not None

    def read_reports(self) -> None:
        try:
            while self.reports.poll():
                message = self.reports.recv()
                if message == READY:
                    self.ready_at = time.monotonic()
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
        backoff: Backoff = Backoff(),
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
        self.backoff = backoff
        self.delays: dict[int, float] = {}  # slot -> the delay before its last replacement
        self.due: dict[int, float] = {}  # slot -> when its replacement starts (monotonic)

    def run(self) -> int:
        for name in ("SIGTERM", "SIGINT"):
            signal.signal(getattr(signal, name), self._stop)
        self._start(range(self.config.workers))
        while not self.stopping:
            waitables = [w.process.sentinel for w in self.workers] + [w.reports for w in self.workers]
            wait(waitables, timeout=self._until_due())
            for worker in self.workers:
                worker.read_reports()
            self._announce()
            self._replace_exited()
            self._start_due()
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
        """Stop if a worker died before it was ready; else schedule each dead worker's replacement."""
        if self.stopping:
            return
        # One is_alive() a worker: when a second call decided which workers were kept, one that died
        # in between was dropped without being replaced, its slot lost for good (and its death went
        # uncounted: the flake of the test of the crash-loop stop there was, on a busy machine).
        alive: list[Worker] = []
        exited: list[Worker] = []
        for worker in self.workers:
            (alive if worker.process.is_alive() else exited).append(worker)
        if not exited:
            return
        self.workers = alive
        for worker in exited:
            worker.read_reports()  # it may have said why, or that it was ready, just before it died
            worker.reports.close()
            now = time.monotonic()
            death = _death(worker.process.exitcode)
            if worker.ready_at is None:
                reason = worker.reason or f"it died ({death.replace('_', ' ')})"
                self._fail(STARTUP_FAILED, f"a worker could not start: {reason}")
                return
            served = now - worker.ready_at
            delay = self.backoff.after(self.delays.get(worker.slot), served)
            self.delays[worker.slot] = delay
            self.due[worker.slot] = now + delay
            log.error(
                "event=worker_died pid=%s reason=%s served_seconds=%.3f replaced_in_seconds=%.3f",
                worker.process.pid,
                death,
                served,
                delay,
            )

    def _until_due(self) -> float:
        """How long the supervisor may wait for its workers before a replacement is due."""
        if not self.due:
            return WAKE_SECONDS
        return min(max(min(self.due.values()) - time.monotonic(), 0.0), WAKE_SECONDS)

    def _start_due(self) -> None:
        """Start the replacements whose delay is over (none once stopping: nothing would serve)."""
        if self.stopping:
            return
        now = time.monotonic()
        slots = [slot for slot, due in self.due.items() if due <= now]
        for slot in slots:
            del self.due[slot]
        self._start(slots)

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
