"""Tags in the browser without script (SPEC §11): the form's one field (commas or spaces), the
tags on each note, the list of tags with counts beside the notes, `/notes?tag=` and `tag:` in
the search box."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from notes_service.data.models import Note
from notes_service.services import notes as notes_service
from tests.helpers import login, post_form


@pytest.fixture
async def alice(client, factory):  # type: ignore[no-untyped-def]
    user = await factory.user("alice")
    await login(client, "alice@example.com")
    return user


async def add(store, author_id, title, tags, content="text"):  # type: ignore[no-untyped-def]
    async with store.write():
        return await notes_service.create_note(
            store, author_id=author_id, title=title, content=content, tags=tags
        )


async def page_of(client, path, **query):  # type: ignore[no-untyped-def]
    response = await client.get(path, query_string=query)
    assert response.status_code == 200
    return re.sub("</?mark>", "", await response.get_data(as_text=True))  # the words, marked or not


async def test_the_form_takes_tags_separated_by_commas_or_spaces(app, client, alice, store) -> None:
    response = await post_form(
        client, "/notes/new", {"title": "Trip", "content": "x", "tags": "Travel, ideas  to-do,"}
    )
    assert response.status_code == 302
    [note] = await store.rows(select(Note.id, Note.tags))
    assert note.tags == ["travel", "ideas", "to-do"]
    edit = await page_of(client, f"/notes/{note.id}/edit")
    assert 'name="tags"' in edit and 'value="travel, ideas, to-do"' in edit
    saved = await post_form(
        client, f"/notes/{note.id}/edit", {"title": "Trip", "content": "x", "tags": "", "version": "1"}
    )
    assert saved.status_code == 302
    assert (await store.rows(select(Note.tags)))[0].tags == []


async def test_a_bad_tag_shows_the_form_again_and_saves_nothing(app, client, alice, store) -> None:
    response = await post_form(client, "/notes/new", {"title": "T", "content": "x", "tags": "good, b@d"})
    assert response.status_code == 422
    page = await response.get_data(as_text=True)
    assert "Tags use letters, digits, - and _ only" in page and "b@d" in page
    assert await store.rows(select(Note.id)) == []
    no_csrf = await client.post("/notes/new", form={"title": "T", "content": "x", "tags": "ok"})
    assert no_csrf.status_code == 400 and await store.rows(select(Note.id)) == []


async def test_tags_with_counts_beside_the_notes_and_the_filter(app, client, alice, store, factory) -> None:
    bob = await factory.user("bob")
    await add(store, bob.id, "bob's", ["secret"])
    await add(store, alice.id, "first", ["work", "home"])
    await add(store, alice.id, "second", ["work"])
    await add(store, alice.id, "third <b>", [])
    page = await page_of(client, "/notes")
    aside = page[page.index('class="tag-list"') :]
    assert re.search(r'href="/notes\?tag=work">#work</a> <span class="muted">2</span>', aside)
    assert re.search(r'href="/notes\?tag=home">#home</a> <span class="muted">1</span>', aside)
    assert "secret" not in page
    tagged = await page_of(client, "/notes", tag="Work")
    assert "second" in tagged and "first" in tagged and "third" not in tagged
    assert tagged.index("second") < tagged.index("first")  # newest first, as the list
    assert "No notes have this tag." in await page_of(client, "/notes", tag="nothing")
    assert "No notes have this tag." in await page_of(client, "/notes", tag="a b")


async def test_tag_in_the_search_box_is_a_filter(app, client, alice, store) -> None:
    await add(store, alice.id, "otter at work", ["work"], content="sea otter")
    await add(store, alice.id, "otter at home", ["home"], content="sea otter")
    found = await page_of(client, "/notes", q="otter tag:work")
    assert "otter at work" in found and "otter at home" not in found
    only = await page_of(client, "/notes", q="tag:home")
    assert "otter at home" in only and "otter at work" not in only
    both = await page_of(client, "/notes", q="otter", tag="home")
    assert "otter at home" in both and "otter at work" not in both and 'name="tag" value="home"' in both
    assert "No notes match" in await page_of(client, "/notes", q="otter tag:a.b")


async def test_a_notes_page_shows_its_tags_as_links(app, client, alice, store) -> None:
    note = await add(store, alice.id, "n", ["éire", "x_y"])
    page = await page_of(client, f"/notes/{note.id}")
    assert 'href="/notes?tag=%C3%A9ire">#éire</a>' in page and 'href="/notes?tag=x_y">#x_y</a>' in page
