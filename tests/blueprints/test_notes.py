"""Notes in the browser: owner only, pinned first, paginated, escaped (SPEC §2)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from notes_service.data.models import Note
from notes_service.services import notes as notes_service
from tests.helpers import login, post_form


@pytest.fixture
async def signed_in_alice(client, factory):  # type: ignore[no-untyped-def]
    user = await factory.user("alice")
    await login(client, "alice@example.com")
    return user


async def add_note(store, author_id: int, title: str, *, is_pinned: bool = False):  # type: ignore[no-untyped-def]
    async with store.write():
        return await notes_service.create_note(
            store, author_id=author_id, title=title, content=f"about {title}", is_pinned=is_pinned
        )


async def stored_notes(store):  # type: ignore[no-untyped-def]
    return await store.rows(select(Note).order_by(Note.id))


@pytest.mark.parametrize(
    "path", ["/notes", "/notes/new", "/notes/1", "/notes/1/edit", "/dashboard", "/settings"]
)
async def test_protected_pages_redirect_to_login_with_next(client, path) -> None:
    response = await client.get(path, query_string={"q": "1"})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/login" and parse_qs(location.query) == {"next": [f"{path}?q=1"]}
    page = await (await client.get("/login")).get_data(as_text=True)
    assert "Please log in to access this page." in page and "flash-warning" in page


async def test_login_form_carries_next_through_its_post(client, factory) -> None:
    await factory.user("alice")
    page = await (await client.get("/login?next=/notes/new")).get_data(as_text=True)
    assert 'name="next" value="/notes/new"' in page


async def test_create_note_redirects_to_it(app, client, signed_in_alice, store) -> None:
    response = await post_form(
        client, "/notes/new", {"title": "  Groceries  ", "content": "eggs", "is_pinned": "y"}
    )
    [note] = await stored_notes(store)
    assert response.status_code == 302 and response.headers["Location"] == f"/notes/{note.id}"
    assert (note.title, note.content, note.is_pinned, note.author_id) == (
        "Groceries",
        "eggs",
        True,
        signed_in_alice.id,
    )
    page = await (await client.get(f"/notes/{note.id}")).get_data(as_text=True)
    assert "Groceries" in page and "eggs" in page


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"title": "   ", "content": "x"}, "This field is required."),
        ({"title": "x" * 201, "content": "x"}, "longer than 200 characters"),
        ({"title": "ok", "content": ""}, "This field is required."),
    ],
)
async def test_invalid_note_is_shown_again_and_not_stored(
    app, client, signed_in_alice, form, message, store
) -> None:
    response = await post_form(client, "/notes/new", form)
    assert response.status_code == 422
    assert message in await response.get_data(as_text=True)
    assert await stored_notes(store) == []


async def test_a_nul_character_in_a_form_is_refused(app, client, signed_in_alice, store) -> None:
    response = await post_form(client, "/notes/new", {"title": "nul\x00", "content": "x"})
    assert response.status_code == 400
    assert await stored_notes(store) == []


async def test_list_shows_only_own_notes_pinned_first_then_newest(
    app, client, factory, signed_in_alice, store
) -> None:
    bob = await factory.user("bob")
    await add_note(store, signed_in_alice.id, "old")
    await add_note(store, signed_in_alice.id, "pinned", is_pinned=True)
    await add_note(store, signed_in_alice.id, "new")
    await add_note(store, bob.id, "bob's secret")
    page = await (await client.get("/notes")).get_data(as_text=True)
    assert "bob&#39;s secret" not in page and "bob's secret" not in page
    assert page.index("pinned") < page.index(">new<") < page.index(">old<")


async def test_list_is_paginated(app, client, signed_in_alice, store) -> None:
    for number in range(25):
        await add_note(store, signed_in_alice.id, f"note-{number:02d}")
    first = await (await client.get("/notes")).get_data(as_text=True)
    second = await (await client.get("/notes?page=2")).get_data(as_text=True)
    assert "note-24" in first and "note-05" in first and "note-04" not in first
    assert "note-04" in second and "note-00" in second and "note-05" not in second
    assert "Page 1 of 2" in first and 'rel="next"' in first
    for past_the_end in ("3", "9223372036854775807", "99999999999999999999"):
        response = await client.get(f"/notes?page={past_the_end}")
        assert response.status_code == 200  # the last page, not a database overflow
        assert "Page 2 of 2" in await response.get_data(as_text=True)


async def test_another_users_note_is_forbidden_and_a_missing_one_not_found(
    app, client, factory, signed_in_alice, store
) -> None:
    bob = await factory.user("bob")
    note = await add_note(store, bob.id, "bob's")
    for path in (f"/notes/{note.id}", f"/notes/{note.id}/edit"):
        response = await client.get(path)
        assert response.status_code == 403
        assert "This note belongs to another account" in await response.get_data(as_text=True)
    response = await post_form(
        client, f"/notes/{note.id}/edit", {"title": "pwned", "content": "x"}, form_page="/notes/new"
    )
    assert response.status_code == 403
    response = await post_form(client, f"/notes/{note.id}/delete", {}, form_page="/notes/new")
    assert response.status_code == 403
    [still_there] = await stored_notes(store)
    assert still_there.title == "bob's"
    for path in ("/notes/999999", "/notes/99999999999999999999", "/notes/abc"):
        assert (await client.get(path)).status_code == 404


async def test_edit_changes_the_note_and_its_updated_at(app, client, signed_in_alice, store) -> None:
    note = await add_note(store, signed_in_alice.id, "draft")
    page = await (await client.get(f"/notes/{note.id}/edit")).get_data(as_text=True)
    assert 'value="draft"' in page
    response = await post_form(
        client, f"/notes/{note.id}/edit", {"title": "final", "content": "done", "is_pinned": "y"}
    )
    assert response.headers["Location"] == f"/notes/{note.id}"
    [edited] = await stored_notes(store)
    assert (edited.title, edited.content, edited.is_pinned) == ("final", "done", True)
    assert edited.updated_at > note.updated_at


async def test_delete_moves_the_note_to_trash_with_an_undo(app, client, signed_in_alice, store) -> None:
    note = await add_note(store, signed_in_alice.id, "doomed")
    response = await post_form(client, f"/notes/{note.id}/delete", {}, form_page=f"/notes/{note.id}")
    assert response.status_code == 302 and response.headers["Location"] == "/notes"
    [trashed] = await stored_notes(store)
    assert trashed.deleted_at is not None
    page = await (await client.get("/notes")).get_data(as_text=True)
    assert "Note moved to trash." in page and f'action="/trash/{note.id}/restore"' in page
    assert "doomed" not in page
    again = await (await client.get("/notes")).get_data(as_text=True)
    assert "/restore" not in again  # the Undo goes with its flash


async def test_user_text_is_escaped(app, client, signed_in_alice, store) -> None:
    await post_form(client, "/notes/new", {"title": "<script>alert(1)</script>", "content": "<b>x</b>"})
    [note] = await stored_notes(store)
    page = await (await client.get(f"/notes/{note.id}")).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<b>x</b>" not in page


async def test_pages_carry_a_content_security_policy_that_allows_no_inline_script(
    client, signed_in_alice, store
) -> None:
    note = await add_note(store, signed_in_alice.id, "t")
    for path in ("/", "/notes", f"/notes/{note.id}", "/settings"):
        policy = (await client.get(path)).headers.get("Content-Security-Policy", "")
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives.get("default-src") == "'self'", (path, policy)
        assert directives.get("frame-ancestors") == "'none'" and "unsafe-inline" not in policy


async def test_dashboard_counts_notes(app, client, signed_in_alice, store) -> None:
    await add_note(store, signed_in_alice.id, "a", is_pinned=True)
    await add_note(store, signed_in_alice.id, "b")
    page = await (await client.get("/dashboard")).get_data(as_text=True)
    assert '<span class="number" id="note-count">2</span>' in page
    assert '<span class="number" id="pinned-count">1</span>' in page


async def test_security_headers_on_every_response(client) -> None:
    for path in ("/", "/login", "/api/nope"):
        response = await client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"


async def test_list_shows_previews_an_svg_pin_and_an_empty_state(app, client, signed_in_alice, store) -> None:
    empty = await (await client.get("/notes")).get_data(as_text=True)
    assert "No notes yet." in empty and 'href="/notes/new"' in empty
    await add_note(store, signed_in_alice.id, "pinned one", is_pinned=True)
    page = await (await client.get("/notes")).get_data(as_text=True)
    assert '<svg class="pin"' in page and "📌" not in page
    assert '<p class="preview">about pinned one</p>' in page


async def test_edited_shows_only_after_a_real_edit(app, client, signed_in_alice, store) -> None:
    note = await add_note(store, signed_in_alice.id, "fresh")
    assert note.created_at == note.updated_at
    assert "edited" not in await (await client.get(f"/notes/{note.id}")).get_data(as_text=True)
    await post_form(
        client, f"/notes/{note.id}/edit", {"title": "fresh", "content": "changed", "version": "1"}
    )
    assert "edited" in await (await client.get(f"/notes/{note.id}")).get_data(as_text=True)
