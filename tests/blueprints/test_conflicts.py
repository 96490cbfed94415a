"""No lost updates (SPEC §9): version, ETag, If-None-Match → 304, If-Match → 412, the 409 edit form."""

from __future__ import annotations

import asyncio
import html
import re

import pytest
from sqlalchemy import select

from notes_service.blueprints.notes import CHANGED_ELSEWHERE
from notes_service.data.models import Note
from tests.helpers import api_token, bearer, login, post_form


@pytest.fixture
async def alice_headers(client, factory) -> dict[str, str]:  # type: ignore[no-untyped-def]
    await factory.user("alice")
    return bearer(await api_token(client, "alice@example.com"))


async def create(client, headers, title="t"):  # type: ignore[no-untyped-def]
    response = await client.post("/api/notes", json={"title": title, "content": "c"}, headers=headers)
    assert response.status_code == 201
    return await response.get_json(), response.headers["ETag"]


async def test_version_starts_at_1_and_every_change_adds_1_and_moves_the_etag(client, alice_headers) -> None:
    note, tag = await create(client, alice_headers)
    assert note["version"] == 1 and tag == f'"{note["id"]}.1"'
    url = f"/api/notes/{note['id']}"
    for expected, change in enumerate([{"title": "u"}, {"is_pinned": True}, {"content": "x"}], start=2):
        response = await client.patch(url, json=change, headers=alice_headers)
        assert (await response.get_json())["version"] == expected
        assert response.headers["ETag"] == f'"{note["id"]}.{expected}"'
    got = await client.get(url, headers=alice_headers)
    assert got.headers["ETag"] == f'"{note["id"]}.4"' and (await got.get_json())["version"] == 4


async def test_if_none_match_gives_304_until_the_note_changes(client, alice_headers) -> None:
    note, tag = await create(client, alice_headers)
    url = f"/api/notes/{note['id']}"
    same = await client.get(url, headers={**alice_headers, "If-None-Match": tag})
    assert same.status_code == 304 and await same.get_data() == b"" and same.headers["ETag"] == tag
    weak = await client.get(url, headers={**alice_headers, "If-None-Match": f"W/{tag}"})
    assert weak.status_code == 304
    await client.patch(url, json={"title": "u"}, headers=alice_headers)
    changed = await client.get(url, headers={**alice_headers, "If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["ETag"] == f'"{note["id"]}.2"'


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE"])
async def test_a_stale_if_match_is_412_and_changes_nothing(client, alice_headers, store, method) -> None:
    note, old = await create(client, alice_headers)
    url = f"/api/notes/{note['id']}"
    await client.patch(url, json={"title": "moved on"}, headers=alice_headers)
    body = {"title": "mine", "content": "mine"} if method != "DELETE" else None
    current = f'"{note["id"]}.2"'
    malformed = ['""', ",", '"', "W/", '"2"', f'"{note["id"]}."', f'"{note["id"] + 1}.2"', "nonsense"]
    for stale in [old, f"W/{current}", '"nonsense"', f'"{note["id"]}.99"', *malformed]:
        response = await client.open(
            url, method=method, json=body, headers={**alice_headers, "If-Match": stale}
        )
        assert response.status_code == 412, stale
        assert await response.get_json() == {"error": "Precondition failed"}
    row = await store.row(select(Note).where(Note.id == note["id"]))
    assert (row.title, row.version, row.deleted_at) == ("moved on", 2, None)
    ok = await client.open(url, method=method, json=body, headers={**alice_headers, "If-Match": current})
    assert ok.status_code == (204 if method == "DELETE" else 200)
    star = await client.open(url, method=method, json=body, headers={**alice_headers, "If-Match": "*"})
    assert star.status_code == (404 if method == "DELETE" else 200)


async def test_if_match_on_someone_elses_or_a_missing_note_is_403_or_404(
    client, alice_headers, factory
) -> None:
    await factory.user("bob")
    bob = bearer(await api_token(client, "bob@example.com"))
    note, tag = await create(client, bob)
    theirs = await client.patch(
        f"/api/notes/{note['id']}", json={"title": "x"}, headers={**alice_headers, "If-Match": tag}
    )
    missing = await client.patch(
        "/api/notes/999", json={"title": "x"}, headers={**alice_headers, "If-Match": tag}
    )
    assert (theirs.status_code, missing.status_code) == (403, 404)


async def test_two_concurrent_writers_with_the_same_if_match_exactly_one_wins(client, alice_headers) -> None:
    """Races for real on both databases, for what can race there. SQLite write blocks run one at
    a time, so there only a version read outside the write block can race (seen failing: If-Match
    checked against `get_note` before `store.write()`). On PostgreSQL a read inside the block
    before the author's row lock races too (seen failing: `get_note` then an unconditional UPDATE,
    ahead of `next_seq`); `make test-postgres` runs it there."""
    note, _ = await create(client, alice_headers)
    url = f"/api/notes/{note['id']}"
    for round_ in range(50):
        version = round_ + 1
        headers = {**alice_headers, "If-Match": f'"{note["id"]}.{version}"'}
        first, second = await asyncio.gather(
            client.patch(url, json={"content": f"a{round_}"}, headers=headers),
            client.patch(url, json={"content": f"b{round_}"}, headers=headers),
        )
        assert sorted([first.status_code, second.status_code]) == [200, 412], round_
    final = await (await client.get(url, headers=alice_headers)).get_json()
    assert final["version"] == 51


async def test_edit_form_over_a_newer_version_is_409_and_keeps_the_text(client, factory, store) -> None:
    user = await factory.user("alice")
    await login(client, "alice@example.com")
    response = await post_form(client, "/notes/new", {"title": "plan", "content": "v1"})
    note_id = int(response.headers["Location"].rsplit("/", 1)[1])
    form_page = await (await client.get(f"/notes/{note_id}/edit")).get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in form_page
    # Another device saves first.
    saved = await post_form(
        client, f"/notes/{note_id}/edit", {"title": "plan", "content": "theirs", "version": "1"}
    )
    assert saved.status_code == 302
    # This tab still holds version 1.
    stale = await post_form(
        client, f"/notes/{note_id}/edit", {"title": "plan", "content": "my unsaved words", "version": "1"}
    )
    page = await stale.get_data(as_text=True)
    assert stale.status_code == 409
    assert CHANGED_ELSEWHERE in page and "my unsaved words" in page
    row = await store.row(select(Note).where(Note.id == note_id, Note.author_id == user.id))
    assert (row.content, row.version) == ("theirs", 2)


def form_of(page: str) -> dict[str, str]:
    """The fields the edit form on `page` would send, as a browser fills them."""
    form = page.split('<form method="post" action="/notes/', 1)[1].split("</form>", 1)[0]
    found = re.findall(r'<input[^>]*name="(\w+)"[^>]*value="([^"]*)"', form)
    fields = {name: html.unescape(value) for name, value in found}
    textarea = re.search(r"<textarea[^>]*name=\"content\"[^>]*>\r?\n?(.*?)</textarea>", form, re.S)
    assert textarea, form
    fields["content"] = html.unescape(textarea.group(1))
    fields.pop("is_pinned", None)  # an unticked box sends nothing
    return fields


async def test_the_409_page_shows_both_texts_and_the_diff_and_saving_it_keeps_mine(
    client, factory, store
) -> None:
    user = await factory.user("alice")
    await login(client, "alice@example.com")
    first = "Buy eggs and bread\nCall <Bob> & Ann\n"
    response = await post_form(client, "/notes/new", {"title": "plan", "content": first})
    note_id = int(response.headers["Location"].rsplit("/", 1)[1])
    # Two edits from version 1: another device's, then this tab's.
    theirs = "Buy eggs and butter\nCall <Bob> & Ann\n"
    mine = "Buy eggs and bread\nCall <Bob> & Ann\nWater the plants\n"
    saved = await post_form(
        client, f"/notes/{note_id}/edit", {"title": "plan", "content": theirs, "version": "1"}
    )
    assert saved.status_code == 302
    stale = await post_form(
        client, f"/notes/{note_id}/edit", {"title": "plan!", "content": mine, "version": "1"}
    )
    page = await stale.get_data(as_text=True)
    assert stale.status_code == 409
    conflict = page.split('<div class="conflict">', 1)[1].split("<form", 1)[0]
    # The current version, escaped, with a link to the note.
    assert "Buy eggs and butter\nCall &lt;Bob&gt; &amp; Ann" in conflict
    assert f'<a href="/notes/{note_id}">Open the current note</a>' in conflict
    # The differences, word by word within a line and whole lines, escaped.
    assert (
        "Buy eggs and <del>butter</del><ins>bread</ins>\n"
        "Call &lt;Bob&gt; &amp; Ann\n<ins>Water the plants\n</ins>" in conflict
    )
    assert "Title: plan<ins>!</ins>" in conflict
    # My text is in the form, which now carries the current version.
    fields = form_of(page)
    assert (fields["content"], fields["title"], fields["version"]) == (mine, "plan!", "2")
    # Saving that form keeps my text on purpose: version 2 + 1.
    again = await client.post(f"/notes/{note_id}/edit", form=fields)
    assert again.status_code == 302, await again.get_data(as_text=True)
    row = await store.row(select(Note).where(Note.id == note_id, Note.author_id == user.id))
    assert (row.title, row.content.replace("\r\n", "\n"), row.version) == ("plan!", mine, 3)
