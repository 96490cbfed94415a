"""The relay between the workers of one host on SQLite without Redis: UNIX datagram sockets.

Without it a worker hears of another's writes only at its next poll round (poll.py), a quarter of
a second later. Here each worker binds one datagram socket in a directory that belongs to the
database file — `<database file>.live/`, next to it, mode 0700 — and a message goes to every other
socket found there. Every worker of every `serve` on that file shares the directory, whatever its
supervisor or environment, and a test's database in a temporary directory has its own.

Sending never blocks a request: the socket is non-blocking and a `sendto` either hands the
datagram to the kernel or fails at once. A receiver whose queue is full (net.unix.max_dgram_qlen,
often 10 datagrams) refuses it; its datagrams wait here, a few at most, and are tried again
`RESEND_SECONDS` later (less often while it takes none), since a message only says "look" and a
late one still beats the poll. A socket nobody holds any more (its worker died without removing
it) refuses every datagram with ECONNREFUSED: it is removed. A message is at most 500 user ids of
JSON (notify.py), a few KB, far below what one datagram carries (the sender's buffer, about 200 KB
by default).

It hears neither the command line's writes nor a datagram given up on, so the poll keeps running
beside it (`complete = False`); see docs/streams.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import stat
from collections import deque
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url

from .relays import KEEPALIVE_SECONDS, RelayLost

SUFFIX = ".sock"
RESEND_SECONDS = 0.005
# A receiver that takes nothing for long (a worker stopped in a debugger) is tried less and less often.
RESEND_MOST_SECONDS = 1.0
# Datagrams kept for a receiver whose queue is full, newest last; older ones are dropped.
BACKLOG = 32
# sockaddr_un holds 108 bytes with its terminating NUL.
LONGEST_PATH = 107


def socket_directory(database_url: str) -> Path | None:
    """Where the workers on this SQLite file meet; None for an in-memory database (one process:
    nobody to tell) or a path too long for a socket address."""
    url = make_url(database_url)
    name = url.database
    if not name or name == ":memory:" or name.startswith("file:") or url.query.get("mode") == "memory":
        return None
    directory = Path(f"{Path(name).resolve()}.live")
    if len(str(directory / f"{'0' * 16}{SUFFIX}").encode()) > LONGEST_PATH:
        return None
    return directory


class SocketRelay:
    """One datagram socket per worker in `directory`; a message goes to all the others."""

    name = "sockets"
    complete = False  # the poll stays on beside it (module docstring)

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.own = f"{secrets.token_hex(8)}{SUFFIX}"  # this worker's socket, once listening
        self.sender: socket.socket | None = None
        self.waiting: dict[str, deque[bytes]] = {}  # by receiver: datagrams its full queue refused
        self.resend: asyncio.TimerHandle | None = None
        self.resend_after = RESEND_SECONDS

    async def publish(self, payload: str) -> None:
        """Send to every other socket of the directory now; never waits."""
        data = payload.encode()
        try:
            names = [name for name in os.listdir(self.directory) if name.endswith(SUFFIX)]
        except FileNotFoundError:
            return  # nobody listens yet
        for name in names:
            if name == self.own:
                continue
            queue = self.waiting.get(name)
            if queue is not None:  # behind already: keep the order
                queue.append(data)
                continue
            self._send(name, data)
        self._resend_later()

    def _send(self, name: str, data: bytes) -> bool:
        """Whether the receiver took the datagram (False: its queue is full, it waits here)."""
        if self.sender is None:
            self.sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self.sender.setblocking(False)
        try:
            self.sender.sendto(data, str(self.directory / name))
        except BlockingIOError:
            self.waiting.setdefault(name, deque(maxlen=BACKLOG)).append(data)
            return False
        except ConnectionRefusedError:  # a dead worker's socket: nobody will read it again
            _remove_socket(self.directory / name)
        except FileNotFoundError:
            pass  # its worker removed it meanwhile
        return True

    def _resend_later(self) -> None:
        if self.waiting and self.resend is None:
            self.resend = asyncio.get_running_loop().call_later(self.resend_after, self._resend)

    def _resend(self) -> None:
        self.resend = None
        taken = False
        for name, queue in list(self.waiting.items()):
            del self.waiting[name]
            while queue:
                if not self._send(name, queue.popleft()):
                    self.waiting[name].extend(queue)  # after the one just refused
                    break
                taken = True
        self.resend_after = RESEND_SECONDS if taken else min(2 * self.resend_after, RESEND_MOST_SECONDS)
        self._resend_later()

    async def listen(self, deliver: Callable[[str], None], ready: Callable[[], None]) -> None:
        """Bind this worker's socket and deliver what arrives, until its file is gone (removed by
        hand or by a cleaner of temporary files: nobody could reach it any more)."""
        path = self.directory / self.own
        _private_directory(self.directory)
        receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        receiver.setblocking(False)
        loop = asyncio.get_running_loop()
        bound: int | None = None
        try:
            receiver.bind(str(path))
            bound = path.stat().st_ino
            loop.add_reader(receiver.fileno(), _drain, receiver, deliver)
            ready()
            while True:
                await asyncio.sleep(KEEPALIVE_SECONDS)
                try:
                    if path.stat().st_ino != bound:
                        raise RelayLost(f"{path} is another file now")
                except FileNotFoundError as error:
                    raise RelayLost(f"{path} was removed") from error
        finally:
            loop.remove_reader(receiver.fileno())
            receiver.close()
            if bound is not None:
                _remove_socket(path, inode=bound)
            # The next `listen` binds a new name: a datagram sent to the old one fails, not lands here.
            self.own = f"{secrets.token_hex(8)}{SUFFIX}"

    async def close(self) -> None:
        if self.resend is not None:
            self.resend.cancel()
        if self.sender is not None:
            self.sender.close()


def _drain(receiver: socket.socket, deliver: Callable[[str], None]) -> None:
    """Every datagram the socket holds, each delivered."""
    while True:
        try:
            data = receiver.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        deliver(data.decode(errors="replace"))


def _remove_socket(path: Path, inode: int | None = None) -> None:
    """Remove a socket file (that one, when `inode` is given), and nothing else."""
    with contextlib.suppress(OSError):
        found = path.lstat()
        if stat.S_ISSOCK(found.st_mode) and inode in (None, found.st_ino):
            path.unlink()


def _private_directory(directory: Path) -> None:
    """Make the directory, or check one found: ours, a directory, no one else's to read or write."""
    directory.mkdir(mode=0o700, exist_ok=True)
    found = directory.lstat()
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.geteuid():
        raise PermissionError(f"{directory} is not a directory of this user")
    if stat.S_IMODE(found.st_mode) & 0o077:
        directory.chmod(0o700)
