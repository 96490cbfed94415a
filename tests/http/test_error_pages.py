"""Error pages speak plainly, keep their status codes and always lead back (SPEC §11 Look, issue 23
item 7); the JSON API's errors stay as they were."""

from __future__ import annotations

import re

import pytest
from quart import Quart

from notes_service.http.errors import TITLES, HTTPError, render_error
from notes_service.services import notes as notes_service
from tests.helpers import csrf_token, login, post_form


def main_text(page: str) -> str:
    """The text a person reads in <main>, tags dropped."""
    main = page.split("<main>", 1)[1].split("</main>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


def heading(page: str) -> str:
    match = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert match, page
    return match.group(1).strip()


def title(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.S)
    assert match, page
    return match.group(1).strip()


def assert_plain(page: str, status: int) -> str:
    """No status name ("403 Forbidden") in what the page says, and a way back; returns the text."""
    text = main_text(page)
    for name in TITLES.values():
        assert name.lower() not in heading(page).lower(), (status, heading(page))
    stem = title(page).removesuffix(" · notes-service")
    assert stem not in TITLES.values() and not re.search(r"\d", stem), (status, stem)
    assert f"{status} {TITLES[status]}" not in text, text
    assert re.search(r'<a href="/(notes)?">Back to (your notes|the home page)</a>', page), page
    assert len(title(page)) <= 40 and "<" not in title(page), title(page)
    return text


async def note_of(store, author_id: int, title: str = "Groceries"):  # type: ignore[no-untyped-def]
    async with store.write():
        return await notes_service.create_note(
            store, author_id=author_id, title=title, content="eggs", is_pinned=False
        )


async def test_each_page_a_request_can_reach_is_plain_with_its_status(app, client, factory, store) -> None:
    alice, bob = await factory.user("alice"), await factory.user("bob")
    bobs = await note_of(store, bob.id)
    missing = await client.get("/no-such-page")
    no_csrf = await client.post("/login", form={"email": "a@example.com", "password": "x"})
    not_allowed = await client.get("/trash/empty")
    too_large = await client.post("/login", form={"email": "x" * (1024 * 1024 + 10)})
    await login(client, "alice@example.com")
    theirs = await client.get(f"/notes/{bobs.id}")

    @app.get("/crash-for-test")
    async def crash() -> str:
        raise RuntimeError("boom")

    crashed = await client.get("/crash-for-test")
    expected = {
        404: (missing, "There is nothing at this address"),
        400: (no_csrf, "That request could not be used"),
        405: (not_allowed, "That cannot be done at this address"),
        413: (too_large, "That was too large to accept"),
        403: (theirs, "This note belongs to another account"),
        500: (crashed, "Something went wrong on our side"),
    }
    for status, (response, words) in expected.items():
        page = await response.get_data(as_text=True)
        assert response.status_code == status, (status, page)
        assert heading(page) == words, status
        assert_plain(page, status)
    # The CSRF page keeps its own, more useful reason.
    assert "reload the page and try again" in main_text(await no_csrf.get_data(as_text=True))
    assert "eggs" not in main_text(await theirs.get_data(as_text=True))
    assert alice.id != bob.id


@pytest.mark.parametrize("status", [409, 429])
async def test_pages_only_some_routes_reach_are_plain_too(app: Quart, status: int) -> None:
    async with app.test_request_context("/somewhere"):
        page, code, _headers = await render_error(HTTPError(status))
    assert code == status
    assert_plain(page, status)


async def test_the_owners_trashed_note_says_so_and_offers_to_restore_it(client, factory, store) -> None:
    alice = await factory.user("alice")
    note = await note_of(store, alice.id)
    await login(client, "alice@example.com")
    assert (await post_form(client, f"/notes/{note.id}/delete", {}, form_page="/notes")).status_code == 302
    for path in (f"/notes/{note.id}", f"/notes/{note.id}/edit"):
        response = await client.get(path)
        page = await response.get_data(as_text=True)
        assert response.status_code == 404, path
        assert heading(page) == "This note is in the trash", path
        assert title(page) == "In the trash · notes-service"
        assert_plain(page, 404)
        card = page.split('class="card narrow error-page"', 1)[1]
        form = re.search(
            r'<form class="inline" method="post" action="/trash/(\d+)/restore">(.*?)</form>', card, re.S
        )
        assert form and int(form.group(1)) == note.id, page
        assert 'name="csrf_token"' in form.group(2) and ">Restore</button>" in form.group(2)
    # The button does what it says: the note is back at its address.
    token = await csrf_token(client, f"/notes/{note.id}")
    restored = await client.post(f"/trash/{note.id}/restore", form={"csrf_token": token})
    assert restored.status_code == 302 and restored.headers["Location"] == f"/notes/{note.id}"
    assert (await client.get(f"/notes/{note.id}")).status_code == 200


async def test_someone_elses_trashed_note_is_a_plain_404_and_the_api_is_unchanged(
    client, factory, store
) -> None:
    alice, bob = await factory.user("alice"), await factory.user("bob")
    bobs, alices = await note_of(store, bob.id), await note_of(store, alice.id)
    async with store.write():
        await notes_service.trash_note(store, note_id=bobs.id, author_id=bob.id)
        await notes_service.trash_note(store, note_id=alices.id, author_id=alice.id)
    await login(client, "alice@example.com")
    response = await client.get(f"/notes/{bobs.id}")
    page = await response.get_data(as_text=True)
    assert response.status_code == 404 and heading(page) == "There is nothing at this address"
    assert "restore" not in page.lower()
    token = await client.post(
        "/api/token", json={"email": "alice@example.com", "password": "correct horse battery"}
    )
    headers = {"Authorization": f"Bearer {(await token.get_json())['token']}"}
    for note_id in (alices.id, bobs.id):
        api = await client.get(f"/api/notes/{note_id}", headers=headers)
        assert (api.status_code, await api.get_json()) == (404, {"error": "Not found"})
    theirs = await note_of(store, bob.id, "live")
    api = await client.get(f"/api/notes/{theirs.id}", headers=headers)
    assert (api.status_code, await api.get_json()) == (403, {"error": "Forbidden"})


async def test_an_invalid_link_page_is_plain_too(client) -> None:
    response = await client.get("/password/reset?token=nope")
    page = await response.get_data(as_text=True)
    assert response.status_code == 400
    assert heading(page) == "This link cannot be used"
    text = assert_plain(page, 400)
    assert "This password reset link is invalid or has expired." in text and "Ask for a new link" in text
    assert not text.startswith("400")


async def test_a_database_with_no_connection_to_give_is_a_503_to_retry_not_a_crash(
    app: Quart, client
) -> None:
    import asyncpg

    @app.get("/api/busy-for-test")
    async def busy() -> str:
        try:  # as SQLAlchemy raises it: its own error, caused by the driver's
            raise asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already")
        except asyncpg.exceptions.TooManyConnectionsError as error:
            raise RuntimeError("(sqlalchemy.dialects.postgresql.asyncpg.Error) …") from error

    @app.get("/busy-for-test")
    async def busy_page() -> str:
        raise ConnectionRefusedError(111, "Connection refused")

    @app.get("/api/crash-for-test")
    async def crash() -> str:
        raise RuntimeError("boom")

    api = await client.get("/api/busy-for-test")
    assert api.status_code == 503 and api.headers["Retry-After"] == "5"
    assert (await api.get_json())["error"] == "Service unavailable"
    page = await client.get("/busy-for-test")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert_plain(await page.get_data(as_text=True), 503)
    assert (await client.get("/api/crash-for-test")).status_code == 500  # anything else stays a crash
