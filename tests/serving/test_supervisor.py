"""`notes-service serve` stops, with one line and status 3, when a worker cannot start (it would
fail the same way each time it is replaced), and never because workers die while serving: a request
that kills its worker must not stop the service (SPEC §6), however often it is sent. Those are
replaced, after a delay that grows while they keep dying.

All run the real command (tests/server.py); those that kill workers again and again run it through
tests/supervised.py, with delays of hundredths of a second, and read the delays the supervisor chose
from its log instead of timing anything.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from notes_service.serving.server import STARTUP_FAILED, Backoff
from tests.server import Server, free_port, status_of

pytestmark = pytest.mark.sqlite_pass_only

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30.0
SECRET_PASSWORD = "pw-in-the-url-1234"
TINY_APP = ("--app", "tests.supervised:app")


class Supervised(Server):
    """A Server whose `serve` is tests/supervised.py, with these replacement delays."""

    def __init__(
        self, workdir: Path, *, first: float = 0.01, most: float = 0.04, reset: float = 60.0
    ) -> None:
        self.die_starting = workdir / "die-starting"  # tests/supervised.py's app dies starting if it exists
        super().__init__(workdir, PYTHONPATH=str(ROOT), DIE_STARTING=str(self.die_starting))
        self.backoff = ["--first", str(first), "--most", str(most), "--reset", str(reset)]

    def _serve(self, *serve_args: str) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.supervised", *self.backoff, "--bind", f"127.0.0.1:{self.port}"]
                + list(serve_args),
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self.process


@pytest.mark.parametrize(
    ("url", "fails", "says"),
    [
        # The URL and its driver are read when the app is built (the driver is imported then, before
        # the workers are forked); a file that cannot be opened, only by a worker.
        ("not a database url", "the application could not load", "is not a database URL SQLAlchemy can read"),
        (
            "postgresql+nodriver://u@127.0.0.1/db",
            "the application could not load",
            "names a driver that is not installed",
        ),
        (
            "sqlite+aiosqlite:////proc/no-such-dir/notes.db",
            "a worker could not start",
            "cannot open the SQLite file",
        ),
    ],
)
def test_a_server_that_cannot_start_stops_serve_with_one_line(tmp_path, url, fails, says) -> None:
    server = Server(tmp_path, url)
    assert server.exit_status("--workers", "2") == STARTUP_FAILED
    lines = server.log().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {fails}: "), lines
    assert says in lines[0]


def test_the_reason_never_shows_the_url_password(tmp_path) -> None:
    url = f"postgresql+nodriver://notes:{SECRET_PASSWORD}@127.0.0.1:{free_port()}/db"
    server = Server(tmp_path, url)
    assert server.exit_status() == STARTUP_FAILED
    assert SECRET_PASSWORD not in server.log()


def _ready_workers(server: Server) -> set[int]:
    return {int(pid) for pid in re.findall(r"event=worker_ready pid=(\d+)", server.log())}


def _deaths(server: Server) -> list[tuple[str, float]]:
    """(reason, seconds before the replacement) of each death of a serving worker, in order."""
    found = re.findall(r"event=worker_died pid=\d+ reason=(\S+) .*replaced_in_seconds=(\S+)", server.log())
    return [(reason, float(delay)) for reason, delay in found]


def _ready(server: Server, count: int, killed: set[int]) -> list[int]:
    """`count` ready workers not killed yet, once there are; fails at once if serve has stopped."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(ready := sorted(_ready_workers(server) - killed)) < count:
        assert server.process is not None
        if server.process.poll() is not None:
            pytest.fail(f"serve stopped (status {server.process.returncode}); its log:\n{server.log()}")
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.02)
    return ready[:count]


def _kill_when_ready(server: Server, count: int, killed: set[int], signum: int = signal.SIGKILL) -> None:
    """Kill `count` workers that are ready and not killed yet, with `signum`."""
    for pid in _ready(server, count, killed):
        os.kill(pid, signum)
        killed.add(pid)


def _exit_status(server: Server) -> int:
    assert server.process is not None
    try:
        return server.process.wait(WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"serve did not stop; its log:\n{server.log()}")


def test_workers_that_die_while_starting_stop_serve(tmp_path) -> None:
    """Killed by a signal before they were ready, so without a reason of their own: not replaced."""
    server = Supervised(tmp_path)
    server.die_starting.touch()
    assert server.exit_status("--workers", "2", *TINY_APP) == STARTUP_FAILED, server.log()
    assert "event=worker_died" not in server.log()
    last = server.log().strip().splitlines()[-1]
    assert last == "Error: a worker could not start: it died (SIGSEGV)", server.log()


def test_a_replacement_that_dies_while_starting_stops_serve(tmp_path) -> None:
    """Its slot's worker had served, but this one cannot start either: it would die again, forever."""
    with Supervised(tmp_path).start("--workers", "2", *TINY_APP) as server:
        _ready(server, 2, set())  # /healthz answered from one: the other must not die starting
        server.die_starting.touch()
        _kill_when_ready(server, 1, set())
        assert _exit_status(server) == STARTUP_FAILED, server.log()
        assert [reason for reason, _ in _deaths(server)] == ["SIGKILL"]
        last = server.log().strip().splitlines()[-1]
        assert last == "Error: a worker could not start: it died (SIGSEGV)", server.log()


def test_a_worker_that_dies_once_is_replaced(tmp_path) -> None:
    with Server(tmp_path).start() as server:
        killed: set[int] = set()
        _kill_when_ready(server, 1, killed)
        _ready(server, 1, killed)
        assert _deaths(server) == [("SIGKILL", Backoff().first)]
        assert server.process is not None and server.process.poll() is None
        assert server.terminate() == 0


def test_workers_killed_while_serving_are_replaced_every_time(tmp_path) -> None:
    """Eight deaths in a few seconds (five in a minute stopped serve before): it serves on.

    Each round kills both workers, the second a moment after the first: while the supervisor
    handles the first death, the moment in which it used to lose the other worker for good.
    """
    signals = [signal.SIGKILL, signal.SIGSEGV] * 4
    with Supervised(tmp_path).start("--workers", "2") as server:
        killed: set[int] = set()
        for first in range(0, len(signals), 2):
            one, other = _ready(server, 2, killed)
            os.kill(one, signals[first])
            time.sleep(0.02)
            os.kill(other, signals[first + 1])
            killed.update((one, other))
        _ready(server, 2, killed)  # both slots serve again
        deadline = time.monotonic() + WAIT_SECONDS
        while status_of(f"{server.url}/healthz") != 200:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        assert sorted(reason for reason, _ in _deaths(server)) == ["SIGKILL"] * 4 + ["SIGSEGV"] * 4
        assert server.terminate() == 0


def test_the_delay_before_a_replacement_grows_while_workers_keep_dying(tmp_path) -> None:
    """Each worker dies just after it became ready, far within `reset` (a minute): twice the delay
    each time, up to `most`."""
    with Supervised(tmp_path, first=0.01, most=0.04).start("--workers", "1", *TINY_APP) as server:
        killed: set[int] = set()
        for _ in range(4):
            _kill_when_ready(server, 1, killed)
        _ready(server, 1, killed)
        assert [delay for _, delay in _deaths(server)] == [0.01, 0.02, 0.04, 0.04]


def test_the_delay_starts_over_after_a_worker_served_a_while(tmp_path) -> None:
    reset = 0.3
    with Supervised(tmp_path, first=0.01, most=0.04, reset=reset).start(
        "--workers", "1", *TINY_APP
    ) as server:
        killed: set[int] = set()
        _kill_when_ready(server, 1, killed)
        _ready(server, 1, killed)
        # The supervisor logged this worker ready before the test read it: it will have served longer.
        time.sleep(reset)
        _kill_when_ready(server, 1, killed)
        _ready(server, 1, killed)
        assert [delay for _, delay in _deaths(server)] == [0.01, 0.01]


def test_an_event_loop_that_cannot_be_imported_stops_serve_with_one_line(tmp_path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "uvloop.py").write_text("raise ImportError('uvloop is broken here')\n")  # found, not importable
    server = Server(tmp_path, PYTHONPATH=str(broken))
    assert server.exit_status("--workers", "2") == STARTUP_FAILED
    lines = server.log().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the application could not load: "), lines
    assert "uvloop is broken here" in lines[0]
