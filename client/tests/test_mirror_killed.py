"""`Mirror` against the real server, killed with SIGKILL at random moments while 1,000 changes are
made (SPEC §10: "safe to stop and restart at any moment"): after every fourth restart, and at the
end, the copy caught up equals the server's notes, trashed ones included."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

from tests.server import Server

from notes_client import Mirror, Note, NotesClient

CHANGES = 1000
RESTARTS = 20
FOLLOWER = """
import asyncio, sys
from notes_client import Mirror, NotesClient

async def main():
    print("started", flush=True)
    async with NotesClient(sys.argv[1], sys.argv[2]) as client:
        async with Mirror(client, sys.argv[3], page_size=50) as mirror:
            synced = asyncio.Event()
            task = asyncio.create_task(mirror.run(synced=synced))
            await synced.wait()
            print("synced", flush=True)
            await task

asyncio.run(main())
"""


async def changes(client: NotesClient, count: int, seed: int) -> None:
    """`count` writes of every kind: create, edit, pin, trash, restore, delete forever."""
    rng = random.Random(seed)
    live: list[Note] = []
    trashed: list[Note] = []
    for number in range(count):
        roll = rng.random()
        if roll < 0.35 or not live:
            live.append(await client.create_note(title=f"n{number}", content="x" * rng.randint(1, 300)))
        elif roll < 0.65:
            index = rng.randrange(len(live))
            live[index] = await client.update_note(live[index], content=f"edit {number}")
        elif roll < 0.75:
            index = rng.randrange(len(live))
            live[index] = await client.update_note(live[index], is_pinned=not live[index].is_pinned)
        elif roll < 0.85:
            note = live.pop(rng.randrange(len(live)))
            await client.delete_note(note)
            trashed.append(note)
        elif roll < 0.92 and trashed:
            live.append(await client.restore_note(trashed.pop(rng.randrange(len(trashed)))))
        elif trashed:
            await client.purge_note(trashed.pop(rng.randrange(len(trashed))))
        else:
            live[-1] = await client.update_note(live[-1], title=f"t{number}")


async def follower(server: Server, token: str, path: Path) -> asyncio.subprocess.Process:
    """A process running `Mirror.run` on `path`."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", FOLLOWER, server.url, token, str(path),
        stdout=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip


async def equal_when_caught_up(server: Server, client: NotesClient, path: Path) -> None:
    """Run the follower until its first catch-up, kill it, and hold its file to the server."""
    assert client.http.token is not None
    process = await follower(server, client.http.token, path)
    assert process.stdout is not None
    async with asyncio.timeout(60):
        assert (await process.stdout.readline()).strip() == b"started"
        assert (await process.stdout.readline()).strip() == b"synced"
    process.send_signal(signal.SIGKILL)
    await process.wait()
    expected = {note.id: note for note in (await client.export()).notes}
    async with Mirror(client, path) as copy:
        assert {note.id: note for note in await copy.notes(trashed=None)} == expected


async def test_a_mirror_killed_at_random_keeps_an_equal_copy(
    server: Server, client: NotesClient, tmp_path: Path
) -> None:
    path = tmp_path / "copy.db"
    token = client.http.token
    assert token is not None
    rng = random.Random(2026)
    done = 0
    for restart in range(RESTARTS):
        process = await follower(server, token, path)
        assert process.stdout is not None
        async with asyncio.timeout(60):
            assert (await process.stdout.readline()).strip() == b"started"  # imported: it works now
        writes = asyncio.create_task(changes(client, CHANGES // RESTARTS, seed=restart))
        await asyncio.sleep(rng.uniform(0.0, 0.4))  # somewhere in its catch-up or following
        process.send_signal(signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL
        await writes
        done += CHANGES // RESTARTS
        if restart % 4 == 3:
            await equal_when_caught_up(server, client, path)
    assert done == CHANGES
    await equal_when_caught_up(server, client, path)
