"""The search results page (SPEC §11 Find): how many notes match (capped "1,000+"), each with its
date, a plain-text excerpt (no Markdown marks) and title with every matched word marked, stemmed
forms and the word being typed included."""

from __future__ import annotations

import re

import pytest

from notes_service.services import notes as notes_service
from notes_service.services import search
from tests.helpers import login


@pytest.fixture
async def alice(client, factory):  # type: ignore[no-untyped-def]
    user = await factory.user("alice")
    await login(client, "alice@example.com")
    return user


async def add(store, author_id, title, content):  # type: ignore[no-untyped-def]
    async with store.write():
        return await notes_service.create_note(store, author_id=author_id, title=title, content=content)


async def results(client, q):  # type: ignore[no-untyped-def]
    response = await client.get("/notes", query_string={"q": q})
    assert response.status_code == 200
    return await response.get_data(as_text=True)


async def test_every_matched_word_is_marked_in_plain_text(app, client, alice, store) -> None:
    await add(
        store,
        alice.id,
        "Quokka notes",
        "# Quokkas\n\nThe **quokka** is a small marsupial. A *quokka* smiles; quokkas are running.\n\n"
        "| Item | Cost |\n|------|-----:|\n| food | 3 |",
    )
    page = await results(client, "quokka runn")
    excerpt = re.search(r'<p class="excerpt">(.*?)</p>', page, re.S)
    assert excerpt is not None
    text = excerpt.group(1)
    assert re.findall(r"<mark>(.*?)</mark>", text) == ["Quokkas", "quokka", "quokka", "quokkas", "running"]
    assert "**" not in text and "#" not in text and "|" not in text and "---" not in text
    assert '<span class="note-title"><mark>Quokka</mark> notes</span>' in page
    assert re.search(r'<time datetime="[^"]+">\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>', page)
    phrase = await results(client, '"a small marsupial"')
    assert re.findall(r"<mark>(.*?)</mark>", phrase) == ["a", "small", "marsupial", "A"]


async def test_the_number_of_matches_is_shown_and_capped(app, client, alice, store, monkeypatch) -> None:
    for number in range(3):
        await add(store, alice.id, f"otter {number}", "x")
    assert '<p class="result-count muted" role="status">3 notes</p>' in await results(client, "otter")
    assert ">1 note</p>" in await results(client, "otter 1")
    assert ">0 notes</p>" in await results(client, "walrus")
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    assert ">2+ notes</p>" in await results(client, "otter")
