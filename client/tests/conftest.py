"""Fixtures: one real `notes-service serve` for the session, and a fresh account per client.

The server is the repository's own (`tests/server.py`, importable as `tests.server` because the
repository's top is on the path: `python -m pytest` run from there, or `PYTHONPATH` pointing at it
when run from `client/`). It serves a temporary SQLite database migrated with `notes-service db
upgrade`, with bcrypt at 4 rounds and the throttle off (both set by `Server`), and writes its mail
as .eml files into its own directory, where `support.mailed_token` finds the links. Tests of what
the server does not have yet use the fakes of `fakes.py` instead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from support import FAST, Account, new_account
from tests.databases import BACKEND
from tests.server import Server

from notes_client import NotesClient

NewClient = Callable[[], Awaitable[tuple[NotesClient, Account]]]


@pytest.fixture(scope="module", autouse=True)
def once_per_ci_run() -> None:
    """The client's server is a SQLite one whatever NOTES_TEST_DATABASE says (the server's routes
    run on PostgreSQL in tests/): the PostgreSQL pass would repeat these exactly, so it skips them."""
    if BACKEND == "postgresql":
        pytest.skip("the client tests serve SQLite: they ran in the SQLite pass")


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("client-server")
    outbox = workdir / "outbox"
    with Server(workdir, NOTES_OUTBOX_DIR=str(outbox), NOTES_MAIL_POLL_SECONDS="0.1").start() as running:
        yield running


@pytest.fixture
async def new_client(server: Server) -> AsyncIterator[NewClient]:
    """Makes clients, each signed in to an account of its own; all closed after the test."""
    made: list[NotesClient] = []

    async def make() -> tuple[NotesClient, Account]:
        account = new_account()
        client = NotesClient(server.url, retry=FAST)
        made.append(client)
        await client.register(account.username, account.email, account.password)
        await client.login(account.email, account.password)
        return client, account

    yield make
    for client in made:
        await client.aclose()


@pytest.fixture
async def client(new_client: NewClient) -> NotesClient:
    made, _ = await new_client()
    return made
