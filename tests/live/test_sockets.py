"""The sockets relay (live/sockets.py) by itself: workers on one SQLite file tell each other through
datagrams in the directory beside it; dead workers' sockets are removed, full ones wait a little;
and the poll still runs beside it, for the writes nobody announces."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from quart import Quart
from quart.typing import TestClientProtocol

from notes_service.data import Database
from notes_service.live import sockets
from notes_service.live.relays import RelayLost
from notes_service.live.sockets import SocketRelay, socket_directory
from notes_service.services import notes
from tests.databases import BACKEND
from tests.helpers import api_token, bearer
from tests.live.test_streams import opened


class Worker:
    """One relay listening, with what it heard."""

    def __init__(self, directory: Path) -> None:
        self.relay = SocketRelay(directory)
        self.heard: list[str] = []
        self.arrived = asyncio.Event()
        self.listening = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def deliver(self, payload: str) -> None:
        self.heard.append(payload)
        self.arrived.set()

    async def next(self) -> str:
        async with asyncio.timeout(5):
            while not self.heard:
                self.arrived.clear()
                await self.arrived.wait()
        return self.heard.pop(0)


@contextlib.asynccontextmanager
async def listening(directory: Path) -> AsyncIterator[Worker]:
    worker = Worker(directory)
    worker.task = asyncio.create_task(worker.relay.listen(worker.deliver, worker.listening.set))
    try:
        async with asyncio.timeout(5):
            await worker.listening.wait()
        yield worker
    finally:
        worker.task.cancel()
        await asyncio.gather(worker.task, return_exceptions=True)
        await worker.relay.close()


def dead_socket(path: Path) -> None:
    """A socket file whose process is gone (a worker killed with SIGKILL leaves one)."""
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(path))
    dead.close()


def datagram_queue_length() -> int:
    """How many datagrams a socket's queue holds before refusing more (Linux)."""
    return int(Path("/proc/sys/net/unix/max_dgram_qlen").read_text())


def test_the_directory_belongs_to_the_database_file(tmp_path: Path) -> None:
    assert socket_directory(f"sqlite+aiosqlite:///{tmp_path}/notes.db") == tmp_path / "notes.db.live"
    assert socket_directory("sqlite+aiosqlite:///:memory:") is None
    assert socket_directory("sqlite+aiosqlite://") is None
    assert socket_directory(f"sqlite+aiosqlite:///{tmp_path}/{'x' * 120}.db") is None  # no address fits


async def test_a_message_reaches_every_other_worker_and_not_its_sender(tmp_path: Path) -> None:
    directory = tmp_path / "notes.db.live"
    async with listening(directory) as a, listening(directory) as b, listening(directory) as c:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700
        await a.relay.publish('{"from": "a"}')
        assert await b.next() == '{"from": "a"}'
        assert await c.next() == '{"from": "a"}'
        await b.relay.publish('{"from": "b"}')
        assert await a.next() == '{"from": "b"}'
        assert await c.next() == '{"from": "b"}'
        assert a.heard == b.heard == c.heard == []  # none heard itself
    assert list(directory.iterdir()) == []  # each removed its own socket on the way out


async def test_a_dead_workers_socket_is_removed_and_the_others_still_hear(tmp_path: Path) -> None:
    directory = tmp_path / "notes.db.live"
    async with listening(directory) as a, listening(directory) as b:
        dead_socket(directory / f"{'d' * 16}.sock")
        await a.relay.publish("after the death")
        assert await b.next() == "after the death"
        assert not (directory / f"{'d' * 16}.sock").exists()
        await a.relay.publish("again")
        assert await b.next() == "again"


async def test_a_full_receiver_gets_its_datagrams_once_it_reads(tmp_path: Path) -> None:
    """Its queue refuses them past net.unix.max_dgram_qlen; publishing neither blocks nor fails,
    and they follow, in order, when it reads again."""
    directory = tmp_path / "notes.db.live"
    sent = [str(number) for number in range(datagram_queue_length() + 20)]
    async with listening(directory) as a:
        slow = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        slow.bind(str(directory / f"{'s' * 16}.sock"))
        slow.setblocking(False)
        with slow:
            for payload in sent:
                await a.relay.publish(payload)
            assert a.relay.waiting, "the receiver's queue never filled"
            got: list[str] = []
            async with asyncio.timeout(5):
                while len(got) < len(sent):
                    try:
                        got.append(slow.recv(100).decode())
                    except BlockingIOError:
                        await asyncio.sleep(0.01)
            assert got == sent


async def test_listening_stops_when_its_socket_file_is_removed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sockets, "KEEPALIVE_SECONDS", 0.01)
    directory = tmp_path / "notes.db.live"
    worker = Worker(directory)
    task = asyncio.create_task(worker.relay.listen(worker.deliver, worker.listening.set))
    await worker.listening.wait()
    (directory / worker.relay.own).unlink()
    with pytest.raises(RelayLost):
        async with asyncio.timeout(5):
            await task
    await worker.relay.close()


# --- in the app ---------------------------------------------------------------------------------


@pytest.mark.skipif(BACKEND != "sqlite", reason="the sockets relay is SQLite's")
async def test_a_write_nobody_announces_arrives_by_the_poll_beside_the_sockets(
    app: Quart, client: TestClientProtocol, factory: Any, settings: dict[str, Any]
) -> None:
    """The command line writes without telling anyone: the poll, which runs beside the sockets,
    finds it."""
    assert app.extensions["live"].notifications.relay.name == "sockets"
    user = await factory.user("alice")
    alice = bearer(await api_token(client, "alice@example.com"))
    async with opened(client, headers=alice) as stream:
        command_line = await Database.open(settings["database_url"])  # no publisher
        try:
            store = command_line.store()
            async with store.write():
                await notes.create_note(store, author_id=user.id, title="unannounced", content="c")
        finally:
            await command_line.close()
        event = await stream.next_change(within=5)
        assert event.data["title"] == "unannounced"
