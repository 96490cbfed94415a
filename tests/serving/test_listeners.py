"""How `notes-service serve` takes new connections: spread over the workers, all taken at once,
and those queued for a worker that dies taken by its replacement.

Both are read from the kernel's side, in /proc: which worker process holds each accepted connection
(its socket inode among the worker's file descriptors), and how many wait in the accept queue.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import time
from pathlib import Path

import pytest

from tests.server import Server

pytestmark = pytest.mark.sqlite_pass_only

ROOT = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 30.0
BURST = 64
ESTABLISHED, LISTEN = "01", "0A"


def _tcp_rows(port: int, state: str) -> list[list[str]]:
    """/proc/net/tcp rows of sockets bound to 127.0.0.1:`port` in `state`."""
    rows = [line.split() for line in Path("/proc/net/tcp").read_text().splitlines()[1:]]
    return [row for row in rows if int(row[1].split(":")[1], 16) == port and row[3] == state]


def _accepted_by(pid: int, port: int) -> int:
    """How many of the server's accepted connections process `pid` holds."""
    inodes = {row[9] for row in _tcp_rows(port, ESTABLISHED)}
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            held += os.readlink(fd).removeprefix("socket:[").removesuffix("]") in inodes
        except OSError:
            pass  # closed meanwhile
    return held


def _waiting(port: int) -> int:
    """Connections in the accept queues of the listening sockets on `port`."""
    return sum(int(row[4].split(":")[1], 16) for row in _tcp_rows(port, LISTEN))


def _workers(server: Server, count: int) -> list[int]:
    deadline = time.monotonic() + WAIT_SECONDS
    while len(pids := re.findall(r"event=worker_ready pid=(\d+)", server.log())) < count:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    return [int(pid) for pid in pids]


def _until(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def test_two_workers_share_a_burst_of_new_connections(tmp_path) -> None:
    with Server(tmp_path).start("--workers", "2") as server:
        workers = _workers(server, 2)
        burst = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(BURST)]
        try:
            _until(lambda: sum(_accepted_by(pid, server.port) for pid in workers) == BURST, "accepted")
            held = [_accepted_by(pid, server.port) for pid in workers]
            # The kernel hashes each connection to one worker's socket: about half each (binomial;
            # fewer than a quarter on one side happens about once in 40,000 runs).
            assert min(held) >= BURST // 4, held
        finally:
            for connection in burst:
                connection.close()


def test_a_busy_worker_takes_every_waiting_connection_at_once(tmp_path) -> None:
    """New connections do not trickle in one per loop turn behind the worker's other work."""
    env = {"PYTHONPATH": str(ROOT), "BUSY_APP_DIR": str(tmp_path)}
    with Server(tmp_path, **env).start("--workers", "1", "--app", "tests.busy_app:app") as server:
        holder = socket.create_connection(("127.0.0.1", server.port))
        holder.sendall(b"GET /hold HTTP/1.1\r\nHost: test\r\n\r\n")
        _until((tmp_path / "held").exists, "the worker is busy")
        queued = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(20)]
        for connection in queued:
            connection.sendall(b"GET /work HTTP/1.1\r\nHost: test\r\n\r\n")
        _until(lambda: _waiting(server.port) == len(queued), "all 20 wait in the accept queue")
        with selectors.DefaultSelector() as selector:
            for connection in queued:
                selector.register(connection, selectors.EVENT_READ)
            (tmp_path / "release").touch()
            assert selector.select(WAIT_SECONDS), "no answer"
            # The first of them has its answer: by then the worker had taken all of them.
            assert _waiting(server.port) == 0
        for connection in [holder, *queued]:
            connection.close()


def test_connections_queued_for_a_dead_worker_are_answered_by_its_replacement(tmp_path) -> None:
    with Server(tmp_path).start("--workers", "2") as server:
        os.kill(_workers(server, 2)[1], signal.SIGKILL)
        # About half of these land on the dead worker's socket, before or after it is replaced.
        clients = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(BURST)]
        try:
            for client in clients:
                client.settimeout(WAIT_SECONDS)
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
            assert [client.recv(12) for client in clients] == [b"HTTP/1.1 200"] * BURST
        finally:
            for client in clients:
                client.close()
