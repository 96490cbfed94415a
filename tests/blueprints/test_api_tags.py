"""Tags in the API (SPEC §11): set by POST, by PUT/PATCH only when sent, refused with a per-field
422, in every note JSON (feed, export), and `?tag=` / `tag:` filters that keep keyset pages."""

from __future__ import annotations

import pytest

from tests.helpers import api_token, bearer


@pytest.fixture
async def alice(factory):  # type: ignore[no-untyped-def]
    return await factory.user("alice")


@pytest.fixture
async def headers(client, alice):  # type: ignore[no-untyped-def]
    return bearer(await api_token(client, "alice@example.com"))


async def post(client, headers, title, tags=None, **extra):  # type: ignore[no-untyped-def]
    body = {"title": title, "content": "text", **extra}
    if tags is not None:
        body["tags"] = tags
    response = await client.post("/api/notes", json=body, headers=headers)
    assert response.status_code == 201, await response.get_json()
    return await response.get_json()


async def test_tags_are_kept_lowercase_merged_and_in_every_note_json(client, headers) -> None:
    note = await post(client, headers, "Trip", ["Travel", "travel", "Éire", "to-do_2"])
    assert note["tags"] == ["travel", "éire", "to-do_2"]
    assert (await post(client, headers, "Plain"))["tags"] == []
    shown = await (await client.get(f"/api/notes/{note['id']}", headers=headers)).get_json()
    assert shown["tags"] == ["travel", "éire", "to-do_2"]
    listed = await (await client.get("/api/notes", headers=headers)).get_json()
    assert [each["tags"] for each in listed] == [[], ["travel", "éire", "to-do_2"]]
    feed = await (await client.get("/api/changes", headers=headers)).get_json()
    assert [change["note"]["tags"] for change in feed["changes"]] == [["travel", "éire", "to-do_2"], []]
    export = await (await client.get("/api/export", headers=headers)).get_json()
    assert [each["tags"] for each in export["notes"]] == [["travel", "éire", "to-do_2"], []]


@pytest.mark.parametrize(
    ("tags", "words"),
    [
        (["two words"], "letters, digits, - and _ only"),
        (["a.b"], "letters, digits, - and _ only"),
        ([""], "between 1 and 40"),
        (["x" * 41], "between 1 and 40"),
        ([f"t{number}" for number in range(21)], "at most 20 tags"),
        ("work", "list"),
        ([1], "string"),
    ],
)
async def test_invalid_tags_are_a_422_naming_the_field(client, headers, tags, words) -> None:
    response = await client.post(
        "/api/notes", json={"title": "t", "content": "c", "tags": tags}, headers=headers
    )
    assert response.status_code == 422
    details = (await response.get_json())["details"]
    assert any(field.startswith("tags") for field in details) and words in " ".join(details.values())


async def test_twenty_tags_once_merged_are_fine(client, headers) -> None:
    tags = [f"t{number}" for number in range(20)]
    assert (await post(client, headers, "many", tags + [tag.upper() for tag in tags]))["tags"] == tags


async def test_put_and_patch_change_tags_only_when_sent(client, headers) -> None:
    note = await post(client, headers, "n", ["keep"])
    url = f"/api/notes/{note['id']}"
    patched = await (await client.patch(url, json={"title": "n2"}, headers=headers)).get_json()
    assert patched["tags"] == ["keep"] and patched["version"] == 2
    put = await (await client.put(url, json={"title": "n3", "content": "c"}, headers=headers)).get_json()
    assert put["tags"] == ["keep"]
    feed = await (await client.get("/api/changes", headers=headers)).get_json()
    tagged = await (await client.patch(url, json={"tags": ["New", "other"]}, headers=headers)).get_json()
    assert tagged["tags"] == ["new", "other"] and tagged["version"] == 4  # a change like any edit
    changes = await (await client.get(f"/api/changes?since={feed['cursor']}", headers=headers)).get_json()
    assert [change["note"]["tags"] for change in changes["changes"]] == [["new", "other"]]
    cleared = await (
        await client.put(url, json={"title": "n", "content": "c", "tags": []}, headers=headers)
    ).get_json()
    assert cleared["tags"] == []
    assert await (await client.get("/api/notes?tag=keep", headers=headers)).get_json() == []
    assert await (await client.get("/api/notes?tag=new", headers=headers)).get_json() == []


async def test_tag_filter_pages_with_a_cursor_and_keeps_to_the_owner(client, headers, factory) -> None:
    await factory.user("bob")
    bob = bearer(await api_token(client, "bob@example.com"))
    await post(client, bob, "bob's", ["work"])
    made = [
        await post(client, headers, f"w{number}", ["Work"] if number % 2 else ["home"]) for number in range(7)
    ]
    await post(client, headers, "pinned work", ["work"], is_pinned=True)
    trashed = await post(client, headers, "trashed", ["work"])
    assert (await client.delete(f"/api/notes/{trashed['id']}", headers=headers)).status_code == 204
    seen, url = [], "/api/notes?tag=WORK&limit=2"
    while url:
        response = await client.get(url, headers=headers)
        assert response.status_code == 200
        seen += [note["title"] for note in await response.get_json()]
        link = response.headers.get("Link")
        url = link[link.index("/api/notes") : link.index(">")] if link else ""
    assert seen == ["pinned work", "w5", "w3", "w1"]
    assert len(made) == 7
    for malformed in ("a b", "a.b", "", "x" * 41):
        response = await client.get("/api/notes", query_string={"tag": malformed}, headers=headers)
        assert response.status_code == 200 and await response.get_json() == []


async def test_tag_in_a_search_is_a_filter_not_a_word(client, headers) -> None:
    await post(client, headers, "otter one", ["animals"])
    await post(client, headers, "otter two", ["toys"])
    await post(client, headers, "animals", [])  # the tag's name as a word does not count
    found = await (
        await client.get("/api/notes", query_string={"q": "otter tag:Animals"}, headers=headers)
    ).get_json()
    assert [note["title"] for note in found] == ["otter one"]
    only_tag = await (
        await client.get("/api/notes", query_string={"q": "tag:animals"}, headers=headers)
    ).get_json()
    assert [note["title"] for note in only_tag] == ["otter one"]
    both = await client.get("/api/notes", query_string={"q": "otter", "tag": "toys"}, headers=headers)
    assert [note["title"] for note in await both.get_json()] == ["otter two"]
    for malformed in ("otter tag:", "otter tag:a.b", "tag:%%"):
        response = await client.get("/api/notes", query_string={"q": malformed}, headers=headers)
        assert response.status_code == 200 and await response.get_json() == []
