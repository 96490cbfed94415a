"""Search (SPEC §9): the query parser, ranking, prefixes, phrases, punctuation, owners, trash, the
index after every kind of write — and no input, however odd, gives an error (Hypothesis)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notes_service.render.excerpts import excerpt
from notes_service.services import notes as notes_service
from notes_service.services import search, trash
from notes_service.services.search_query import Term, parse
from tests.helpers import api_token, bearer, login


def test_parser_words_prefixes_phrases_and_punctuation() -> None:
    assert parse("Hello,  WORLD!").terms == (Term(("hello",)), Term(("world",)))
    assert parse('plan* "next week"').terms == (Term(("plan",), prefix=True), Term(("next", "week")))
    assert parse('AND OR NOT ( ) : ^ - + {title} "').terms == (
        Term(("and",)),
        Term(("or",)),
        Term(("not",)),
        Term(("title",)),
    )
    assert not parse("*** ;; \"\" '' _ -").terms
    assert parse("x-y").fts5() == '"x" AND "y"'
    assert parse('ab* "b c"').tsquery() == "('b' <-> 'c')"  # matched among stems
    assert parse('ab* "b c"').tsquery(stemmed=False) == "'ab':*"  # among the words as written


def test_prefix_terms_are_bounded_in_length_and_number() -> None:
    """Issue 20 item 10: `a* b* … p*` read most of the index 16 times over."""
    one_letter = parse(" ".join(f"{letter}*" for letter in "abcdefghijklmnop"))
    assert not any(term.prefix for term in one_letter.terms) and len(one_letter.terms) == 16
    many = parse("ab* cd* ef* gh* ij* kl*")
    assert [term.prefix for term in many.terms] == [True, True, True, True, False, False]


async def test_a_persons_searches_take_turns_and_leave_others_alone(monkeypatch) -> None:
    """At most SEARCHES_AT_ONCE of one person's searches run at once in a worker; another person's
    search does not wait behind them."""
    import asyncio

    running: dict[int, int] = {1: 0, 2: 0}
    most: dict[int, int] = {1: 0, 2: 0}
    release = asyncio.Event()

    async def slow_page(store, *, author_id, **_):  # type: ignore[no-untyped-def]
        running[author_id] += 1
        most[author_id] = max(most[author_id], running[author_id])
        if author_id == 1:
            await release.wait()
        running[author_id] -= 1
        return []

    class Store:
        def for_dialect(self, **choices):  # type: ignore[no-untyped-def]
            return slow_page

    query = parse("otter")
    floods = [
        asyncio.create_task(search.search_notes(Store(), author_id=1, query=query, limit=5, offset=0))  # type: ignore[arg-type]
        for _ in range(8)
    ]
    await asyncio.sleep(0.01)
    other = search.search_notes(Store(), author_id=2, query=query, limit=5, offset=0)  # type: ignore[arg-type]
    assert await asyncio.wait_for(other, 1) == []
    assert most == {1: search.SEARCHES_AT_ONCE, 2: 1}
    release.set()
    await asyncio.gather(*floods)
    assert not search.BUDGET._slots  # forgotten once nobody searches


def test_excerpt_is_around_the_first_match() -> None:
    text = "lorem " * 100 + "the Needle here " + "ipsum " * 100
    piece = excerpt(text, parse("needle"))
    assert piece.marked == ["Needle"] and piece.text.startswith("…") and piece.text.endswith("…")
    assert len(piece.text) < 260


@pytest.fixture
async def alice(factory):  # type: ignore[no-untyped-def]
    return await factory.user("alice")


async def add(store, author_id, title, content):  # type: ignore[no-untyped-def]
    """A note, newer than every note added before it."""
    async with store.write():
        return await notes_service.create_note(store, author_id=author_id, title=title, content=content)


async def found(store, author_id, text):  # type: ignore[no-untyped-def]
    rows = await search.search_notes_after(
        store, author_id=author_id, query=parse(text), after=None, limit=50
    )
    return [row.title for row in rows]


async def test_title_matches_rank_first_then_newest(app, store, alice) -> None:
    await add(store, alice.id, "old title apple", "x")
    await add(store, alice.id, "content only", "an apple a day")
    await add(store, alice.id, "new title apple", "x")
    await add(store, alice.id, "newest content", "apple pie")
    await add(store, alice.id, "unrelated", "pear")
    assert await found(store, alice.id, "apple") == [
        "new title apple",
        "old title apple",
        "newest content",
        "content only",
    ]


async def test_every_word_prefix_phrase_and_punctuation(app, store, alice) -> None:
    await add(store, alice.id, "Shopping", "Buy milk and eggs at the market")
    await add(store, alice.id, "Work", "Milk the cow; eggs later. See example.com/path")
    assert await found(store, alice.id, "milk eggs") == ["Work", "Shopping"]
    assert await found(store, alice.id, "milk market") == ["Shopping"]
    assert await found(store, alice.id, "MARK*") == ["Shopping"]
    assert await found(store, alice.id, '"milk and eggs"') == ["Shopping"]
    assert await found(store, alice.id, '"eggs milk"') == []
    assert await found(store, alice.id, "example") == ["Work"]  # punctuation in the text is a space too
    assert await found(store, alice.id, "cow;eggs!!") == ["Work"]
    assert await found(store, alice.id, "mil ") == []  # a whole word: "mil" is in no note
    assert await found(store, alice.id, "mil") == ["Work", "Shopping"]  # being typed: a prefix (SPEC §11)


async def test_other_users_and_trashed_notes_are_never_found(app, store, alice, factory) -> None:
    bob = await factory.user("bob")
    await add(store, bob.id, "secret zebra", "zebra")
    mine = await add(store, alice.id, "my zebra", "zebra")
    assert await found(store, alice.id, "zebra") == ["my zebra"]
    async with store.write():
        await notes_service.trash_note(store, note_id=mine.id, author_id=alice.id)
    assert await found(store, alice.id, "zebra") == []
    async with store.write():
        await trash.restore_note(store, note_id=mine.id, author_id=alice.id)
    assert await found(store, alice.id, "zebra") == ["my zebra"]


async def test_the_author_part_of_the_index_is_never_searched(app, store, alice) -> None:
    """The index holds each note's author as a token (`a<id>`) to keep to one author's notes fast;
    typing that token finds nothing."""
    await add(store, alice.id, "groceries", "eggs")
    assert await found(store, alice.id, f"a{alice.id}") == []
    assert await found(store, alice.id, "eggs") == ["groceries"]


async def test_the_index_follows_create_update_and_purge(app, store, alice) -> None:
    note = await add(store, alice.id, "draft", "walrus")
    assert await found(store, alice.id, "walrus") == ["draft"]
    async with store.write():
        await notes_service.update_note(
            store, note_id=note.id, author_id=alice.id, content="narwhal", title="final"
        )
    assert await found(store, alice.id, "walrus") == []
    assert await found(store, alice.id, "narwhal") == ["final"]
    async with store.write():
        await notes_service.update_note(store, note_id=note.id, author_id=alice.id, is_pinned=True)
    assert await found(store, alice.id, "narwhal final") == ["final"]
    async with store.write():
        await notes_service.trash_note(store, note_id=note.id, author_id=alice.id)
        await trash.purge_note(store, note_id=note.id, author_id=alice.id)
    assert await found(store, alice.id, "narwhal") == []
    again = await add(store, alice.id, "again", "narwhal")  # a new row may reuse nothing stale
    assert await found(store, alice.id, "narwhal") == ["again"] and again.id


async def test_api_search_pages_with_a_cursor(app, client, store, alice) -> None:
    headers = bearer(await api_token(client, "alice@example.com"))
    await add(store, alice.id, "common title", "x")
    for number in range(5):
        await add(store, alice.id, f"n{number}", "common words")
    seen, url = [], "/api/notes?q=common&limit=2"
    while url:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200
        seen += [note["title"] for note in await response.get_json()]
        link = response.headers.get("Link")
        url = link[link.index("/api/notes") : link.index(">")] if link else ""
    assert seen == ["common title", "n4", "n3", "n2", "n1", "n0"]
    plain = await client.get("/api/notes?q=%20%2A%2A&limit=1", headers=headers)  # no word: the plain list
    assert plain.status_code == 200 and "Link" in plain.headers
    plain_link = plain.headers["Link"]
    mixed = plain_link[plain_link.index("/api/notes") : plain_link.index(">")] + "&q=common"
    assert (await client.get(mixed, headers=headers)).status_code == 400  # a list cursor is not a search's
    twice = await client.get("/api/notes?q=common&q=words", headers=headers)
    assert twice.status_code == 422 and "q" in (await twice.get_json())["details"]


async def test_html_search_box_and_escaped_excerpt(app, client, store, alice) -> None:
    await add(store, alice.id, "page", "before <script>alert(1)</script> the keyword and after")
    await login(client, "alice@example.com")
    listing = await (await client.get("/notes")).get_data(as_text=True)
    assert 'name="q"' in listing
    page = await (await client.get("/notes?q=keyword")).get_data(as_text=True)
    assert "<mark>keyword</mark>" in page and "&lt;script&gt;" in page and "<script>alert" not in page
    none = await client.get("/notes?q=absent")
    assert none.status_code == 200 and "No notes match" in await none.get_data(as_text=True)


NASTY = [
    '"',
    '""',
    '"*"',
    "*",
    "**",
    "a*b*",
    "NEAR(a b)",
    "a:b",
    "{title}:x",
    "title:x",
    "^a",
    "a -b",
    "a OR",
    "(((",
    ")))",
    "'",
    "''",
    "\\",
    "a'b",
    "a:*",
    "&",
    "|",
    "!",
    "<->",
    "a & b | !c",
    "\u00e9\u0301",
    "\u2603",
    "\U0001f600",
    "²³",
    "٣",
    "_",
    "a_b",
    "x" * 500,
    "a " * 200,
    "\x01\x02",
    "中文 検索",
    "ǅ",
    "İ",
]


def generated_queries() -> list[str]:
    """Inputs Hypothesis generates (any Unicode: operators, quotes, colons, symbols, marks); the async
    test below sends each one through the API and the page (Hypothesis runs the parser in its loop)."""
    inputs: list[str] = []

    @settings(max_examples=200, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=60))
    def collect(text: str) -> None:
        parse(text).fts5()
        parse(text).tsquery()
        inputs.append(text)

    collect()
    return inputs


async def test_no_query_ever_gives_an_error(app, client, store, alice) -> None:
    await add(store, alice.id, "title with words", 'content "quoted" * and : colons')
    headers = bearer(await api_token(client, "alice@example.com"))
    await login(client, "alice@example.com")
    inputs = NASTY + generated_queries()
    assert len(inputs) > 200
    for text in inputs:
        api = await client.get("/api/notes", query_string={"q": text}, headers=headers)
        assert api.status_code in {200, 422}, (text, api.status_code)  # 422: longer than 500
        page = await client.get("/notes", query_string={"q": text})
        assert page.status_code == 200, text


async def test_a_page_is_full_when_newer_matches_are_in_the_trash(app, store, alice) -> None:
    """Pages are read newest-first straight from the index, so the index must hold live notes only."""
    await add(store, alice.id, "first", "otter")
    await add(store, alice.id, "second", "otter")
    newest = await add(store, alice.id, "third", "otter")
    async with store.write():
        await notes_service.trash_note(store, note_id=newest.id, author_id=alice.id)
    page = await search.search_notes_after(
        store, author_id=alice.id, query=parse("otter"), after=None, limit=2
    )
    assert [row.title for row in page] == ["second", "first"]
    numbered = await search.search_notes(store, author_id=alice.id, query=parse("otter"), limit=1, offset=1)
    assert [row.title for row in numbered] == ["first"]
