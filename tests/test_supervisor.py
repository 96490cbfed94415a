"""`notes-service serve` stops, with one line and a non-zero status, instead of respawning forever.

A worker that cannot start would fail the same way each time it is replaced; workers that keep
dying after they started are a crash loop. Both run the real command (tests/server.py).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest

from notes_service.serving.server import CRASH_LOOP, CRASH_LOOP_DEATHS, STARTUP_FAILED
from tests.server import Server, free_port

WAIT_SECONDS = 30.0
SECRET_PASSWORD = "pw-in-the-url-1234"


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


def _kill_when_ready(server: Server, count: int, killed: set[int]) -> None:
    """SIGKILL `count` workers that have started and not been killed yet."""
    deadline = time.monotonic() + WAIT_SECONDS
    while len(targets := sorted(_ready_workers(server) - killed)) < count:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    for pid in targets[:count]:
        os.kill(pid, signal.SIGKILL)
        killed.add(pid)


def test_workers_that_keep_dying_stop_serve(tmp_path) -> None:
    with Server(tmp_path).start("--workers", "2") as server:
        killed: set[int] = set()
        _kill_when_ready(server, 2, killed)
        _kill_when_ready(server, 2, killed)  # their replacements: 4 deaths, still serving
        _kill_when_ready(server, 1, killed)  # the fifth within a minute
        assert len(killed) == CRASH_LOOP_DEATHS
        assert server.process is not None
        try:
            status = server.process.wait(WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve did not stop after the fifth death; its log:\n{server.log()}")
        assert status == CRASH_LOOP, server.log()
        last = server.log().strip().splitlines()[-1]
        assert re.fullmatch(r"Error: 5 workers died within 60 s: a crash loop, .*", last), last


def test_a_worker_that_dies_once_is_replaced(tmp_path) -> None:
    with Server(tmp_path).start() as server:
        killed: set[int] = set()
        _kill_when_ready(server, 1, killed)
        deadline = time.monotonic() + WAIT_SECONDS
        while not _ready_workers(server) - killed:
            assert time.monotonic() < deadline, server.log()
            time.sleep(0.05)
        assert server.process is not None and server.process.poll() is None
        assert server.terminate() == 0


def test_an_event_loop_that_cannot_be_imported_stops_serve_with_one_line(tmp_path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "uvloop.py").write_text("raise ImportError('uvloop is broken here')\n")  # found, not importable
    server = Server(tmp_path, PYTHONPATH=str(broken))
    assert server.exit_status("--workers", "2") == STARTUP_FAILED
    lines = server.log().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: the application could not load: "), lines
    assert "uvloop is broken here" in lines[0]
