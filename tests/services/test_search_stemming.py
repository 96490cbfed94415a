"""Find (SPEC §11): words match their other forms on both databases, the word being typed matches
as a prefix, no word of a query is ignored, and the bounds of issue 20 item 10 still hold."""

from __future__ import annotations

import pytest

from notes_service.services import notes as notes_service
from notes_service.services import search
from notes_service.services.search_query import MAX_PREFIXES, parse


@pytest.fixture
async def alice(factory):  # type: ignore[no-untyped-def]
    return await factory.user("alice")


async def add(store, author_id, title, content):  # type: ignore[no-untyped-def]
    async with store.write():
        return await notes_service.create_note(store, author_id=author_id, title=title, content=content)


async def found(store, author_id, text, offset=None):  # type: ignore[no-untyped-def]
    if offset is not None:  # the numbered pages of the HTML list
        rows = await search.search_notes(
            store, author_id=author_id, query=parse(text), limit=50, offset=offset
        )
    else:
        rows = await search.search_notes_after(
            store, author_id=author_id, query=parse(text), after=None, limit=50
        )
    return sorted(row.title for row in rows)


async def test_words_match_their_other_forms(app, store, alice) -> None:
    await add(store, alice.id, "Animals", "Quokkas live on Rottnest")
    await add(store, alice.id, "Training", "I was running in the morning")
    await add(store, alice.id, "One quokka", "smiling")
    for text in ("quokka ", "Quokkas ", "QUOKKA "):
        assert await found(store, alice.id, text) == ["Animals", "One quokka"], text
    assert await found(store, alice.id, "run ") == ["Training"]
    assert await found(store, alice.id, "runs mornings ") == ["Training"]
    assert await found(store, alice.id, '"was running" ') == ["Training"]  # phrases match stems too
    assert await found(store, alice.id, "walk ") == []
    assert await found(store, alice.id, "run quokka", offset=0) == []  # every word still counts


async def test_the_word_being_typed_matches_as_a_prefix(app, store, alice) -> None:
    await add(store, alice.id, "Training", "running shoes")
    await add(store, alice.id, "Animals", "Quokkas")
    assert await found(store, alice.id, "runn") == ["Training"]
    assert await found(store, alice.id, "runn ") == []  # finished: a whole word, "runn" is none
    assert await found(store, alice.id, "shoes runn") == ["Training"]
    assert await found(store, alice.id, "runn shoes") == []  # only the last word is being typed
    assert await found(store, alice.id, "run sho") == ["Training"]
    assert await found(store, alice.id, "quokkas") == ["Animals"]  # its stem, or a prefix
    assert await found(store, alice.id, "quok") == ["Animals"]
    assert await found(store, alice.id, "quok", offset=0) == ["Animals"]
    assert await found(store, alice.id, "q") == []  # one letter is no prefix (issue 20 item 10)


async def test_no_word_is_ignored(app, store, alice) -> None:
    await add(store, alice.id, "Band", "I saw the who live")
    await add(store, alice.id, "Question", "who is there")
    await add(store, alice.id, "Article", "the end")
    assert await found(store, alice.id, "the who ") == ["Band"]
    assert await found(store, alice.id, "the who") == ["Band"]
    assert await found(store, alice.id, '"the who"') == ["Band"]
    assert await found(store, alice.id, "the ") == ["Article", "Band"]  # "there" is another word


def test_the_typed_word_counts_as_a_prefix_term() -> None:
    """Issue 20 item 10: at most MAX_PREFIXES prefix lookups, each of 2 letters or more."""
    full = parse(" ".join(f"p{number}x*" for number in range(MAX_PREFIXES)) + " runn")
    assert full.typed is None and sum(term.prefix for term in full.terms) == MAX_PREFIXES
    assert parse("ab* runn").typed is not None
    assert parse("runn,").typed is None and parse("runn*").typed is None  # finished, or a prefix already


async def test_matches_are_counted_up_to_the_cap(app, store, alice) -> None:
    for number in range(5):
        await add(store, alice.id, f"otter {number}", "swimming" if number % 2 else "floats")
    await add(store, alice.id, "other", "nothing")
    count = search.count_matches
    assert await count(store, author_id=alice.id, query=parse("otter ")) == 5
    assert await count(store, author_id=alice.id, query=parse("swim ")) == 2
    assert await count(store, author_id=alice.id, query=parse("otter swimm")) == 2
    assert await count(store, author_id=alice.id, query=parse("otter "), cap=3) == 4  # 3+: "more than 3"
    assert await count(store, author_id=alice.id, query=parse("tag:x")) == 0
    async with store.write():
        await notes_service.update_note(store, note_id=1, author_id=alice.id, tags=["wet"])
    assert await count(store, author_id=alice.id, query=parse("otter tag:wet")) == 1
