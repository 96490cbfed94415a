"""Each error answer of the real server as its exception, with the server's message."""

from __future__ import annotations

import pytest
from conftest import NewClient
from support import FAST
from tests.server import Server

from notes_client import (
    APIError,
    Forbidden,
    NotesClient,
    NotFound,
    PreconditionFailed,
    Unauthorized,
    ValidationFailed,
)


async def test_not_found(client: NotesClient) -> None:
    with pytest.raises(NotFound) as missing:
        await client.get_note(999_999)
    assert (missing.value.status, missing.value.message, str(missing.value)) == (
        404,
        "Not found",
        "Not found",
    )
    assert isinstance(missing.value, APIError)


async def test_forbidden_for_another_accounts_note(new_client: NewClient) -> None:
    owner, _ = await new_client()
    other, _ = await new_client()
    note = await owner.create_note(title="Mine", content="only mine")
    with pytest.raises(Forbidden, match="Forbidden"):
        await other.get_note(note.id)
    with pytest.raises(Forbidden):
        await other.update_note(note.id, title="Theirs")
    await owner.delete_note(note)
    with pytest.raises(Forbidden):
        await other.restore_note(note.id)


async def test_precondition_failed_attaches_the_current_note(new_client: NewClient, server: Server) -> None:
    client, account = await new_client()
    note = await client.create_note(title="Shared", content="v1")
    async with NotesClient(server.url, retry=FAST) as elsewhere:  # another device
        await elsewhere.login(account.email, account.password)
        theirs = await elsewhere.update_note(await elsewhere.get_note(note.id), content="v2 from elsewhere")
    with pytest.raises(PreconditionFailed) as stale:
        await client.update_note(note, content="v2 from here")
    assert stale.value.status == 412 and stale.value.message == "Precondition failed"
    assert stale.value.current == theirs and stale.value.current.etag == theirs.etag
    for write in (
        client.replace_note(note, title="x", content="y"),
        client.delete_note(note),
    ):
        with pytest.raises(PreconditionFailed):
            await write
    assert (await client.get_note(note.id)).content == "v2 from elsewhere"  # nothing overwritten
    # Retrying with the note the error carries goes through.
    assert (await client.update_note(stale.value.current, content="merged")).version == 3


async def test_a_listed_note_changed_since_is_refused_too(client: NotesClient) -> None:
    await client.create_note(title="Listed", content="v1")
    [listed] = await client.list_notes().all()
    await client.update_note(listed.id, content="v2")
    with pytest.raises(PreconditionFailed) as stale:
        await client.update_note(listed, content="from the list")
    assert stale.value.current is not None and stale.value.current.content == "v2"


async def test_validation_failed_names_the_fields(client: NotesClient, server: Server) -> None:
    with pytest.raises(ValidationFailed) as bad:
        await client.create_note(title="   ", content="x" * 100_001)
    assert bad.value.status == 422 and set(bad.value.details) == {"title", "content"}
    async with NotesClient(server.url, retry=FAST) as anonymous:
        with pytest.raises(ValidationFailed) as bad_user:
            await anonymous.register("no spaces allowed", "not-an-email", "short")
    assert set(bad_user.value.details) == {"username", "email", "password"}


async def test_unauthorized(server: Server) -> None:
    async with NotesClient(server.url, retry=FAST) as anonymous:
        with pytest.raises(Unauthorized, match="Token required"):
            await anonymous.me()
        anonymous.token = "nts_not-a-real-token"
        with pytest.raises(Unauthorized, match="Invalid token"):
            await anonymous.list_notes().all()
        with pytest.raises(Unauthorized, match="Invalid credentials"):
            await anonymous.login("nobody@example.com", "wrong password")
