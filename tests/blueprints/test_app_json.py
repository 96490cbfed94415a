"""The browser app's JSON routes (SPEC §11): cookie session, `X-CSRF-Token`, ownership, If-Match."""

from __future__ import annotations

from typing import Any

from notes_service.http.web import CSRF_HEADER_FAILED
from tests.helpers import login


async def signed_in(client: Any, factory: Any, name: str = "alice") -> dict[str, str]:
    """Sign `name` in on `client`; the headers the app's scripts send on a write."""
    await factory.user(name)
    await login(client, f"{name}@example.com")
    token = (await (await client.get("/app/csrf")).get_json())["csrf_token"]
    return {"X-CSRF-Token": token}


async def create(client: Any, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = await client.post("/app/notes", json={"title": "t", "content": "c", **fields}, headers=headers)
    assert response.status_code == 201, await response.get_data(as_text=True)
    body: dict[str, Any] = await response.get_json()
    assert response.headers["ETag"] == f'"{body["id"]}.1"'
    return body


async def test_writes_without_a_valid_token_are_refused_and_change_nothing(client, factory) -> None:
    headers = await signed_in(client, factory)
    note = await create(client, headers)
    url = f"/app/notes/{note['id']}"
    for sent in ({}, {"X-CSRF-Token": "nope"}, {"X-CSRF-Token": ""}):
        for method, body in (
            ("post", {"title": "x", "content": "y"}),
            ("patch", {"title": "x"}),
            ("delete", None),
        ):
            target = "/app/notes" if method == "post" else url
            response = await getattr(client, method)(target, json=body, headers=sent)
            assert response.status_code == 403, (method, sent)
            assert await response.get_json() == {"error": CSRF_HEADER_FAILED}
    # a form's token in a form field is not enough either: the header is required
    listed = await (await client.get("/app/notes")).get_json()
    assert [each["title"] for each in listed["notes"]] == ["t"] and listed["notes"][0]["version"] == 1


async def test_not_signed_in_is_401_json(client) -> None:
    response = await client.get("/app/notes")
    assert response.status_code == 401 and "error" in await response.get_json()


async def test_list_has_the_order_and_pages_of_the_html_list(client, factory) -> None:
    headers = await signed_in(client, factory)
    for number in range(23):
        await create(client, headers, title=f"n{number}", is_pinned=number == 3)
    first = await (await client.get("/app/notes")).get_json()
    assert first["total"] == 23 and first["pages"] == 2 and first["more"] is True
    assert [each["title"] for each in first["notes"][:3]] == ["n3", "n22", "n21"]
    second = await (await client.get("/app/notes?page=2")).get_json()
    assert [each["title"] for each in second["notes"]] == ["n2", "n1", "n0"] and second["more"] is False
    found = await (await client.get("/app/notes?q=n7")).get_json()
    assert [each["title"] for each in found["notes"]] == ["n7"]


async def test_get_has_version_etag_and_the_pages_html(client, factory) -> None:
    headers = await signed_in(client, factory)
    note = await create(client, headers, content="- [ ] milk\n\n<b>x</b>")
    response = await client.get(f"/app/notes/{note['id']}")
    body = await response.get_json()
    assert response.headers["ETag"] == f'"{note["id"]}.1"' and body["version"] == 1
    assert 'type="checkbox"' in body["html"] and "<b>" not in body["html"]
    preview = await client.post("/app/preview", json={"content": "**b**"}, headers=headers)
    assert (await preview.get_json())["html"].strip() == "<p><strong>b</strong></p>"


async def test_another_users_note_is_403_and_none_is_404(client, app, factory) -> None:
    alice = await signed_in(client, factory)
    note = await create(client, alice)
    other = app.test_client()
    bob = await signed_in(other, factory, "bob")
    url = f"/app/notes/{note['id']}"
    assert (await other.get(url)).status_code == 403
    assert (await other.patch(url, json={"title": "mine"}, headers=bob)).status_code == 403
    assert (await other.delete(url, headers=bob)).status_code == 403
    assert (await other.get("/app/notes/999999")).status_code == 404
    # alice's token is not bob's: a token of another browser's secret is refused
    assert (await other.patch(url, json={"title": "mine"}, headers=alice)).status_code == 403
    assert (await (await client.get(url)).get_json())["title"] == "t"


async def test_if_match_stale_is_412_and_changes_nothing(client, factory) -> None:
    headers = await signed_in(client, factory)
    note = await create(client, headers)
    url = f"/app/notes/{note['id']}"
    saved = await client.patch(
        url, json={"content": "v2"}, headers={**headers, "If-Match": f'"{note["id"]}.1"'}
    )
    assert saved.status_code == 200 and saved.headers["ETag"] == f'"{note["id"]}.2"'
    assert (await saved.get_json())["version"] == 2
    for stale in (f'"{note["id"]}.1"', "", "garbage", f'W/"{note["id"]}.2"'):
        refused = await client.patch(url, json={"content": "lost"}, headers={**headers, "If-Match": stale})
        assert refused.status_code == 412 and await refused.get_json() == {"error": "Precondition failed"}
    refused = await client.delete(url, headers={**headers, "If-Match": f'"{note["id"]}.1"'})
    assert refused.status_code == 412
    assert (await (await client.get(url)).get_json())["content"] == "v2"
    trashed = await client.delete(url, headers={**headers, "If-Match": f'"{note["id"]}.2"'})
    assert trashed.status_code == 204 and (await client.get(url)).status_code == 404


async def test_bad_bodies_are_422_json(client, factory) -> None:
    headers = await signed_in(client, factory)
    response = await client.post("/app/notes", json={"title": ""}, headers=headers)
    assert response.status_code == 422 and "details" in await response.get_json()
    response = await client.post("/app/notes", data="not json", headers=headers)
    assert response.status_code == 400


async def test_search_has_the_pages_marked_excerpts_count_and_tag_filter(client, factory) -> None:
    headers = await signed_in(client, factory)
    await create(client, headers, title="Running log", content="# Week\n\nI went **running**; Run more.")
    await create(client, headers, title="Quokkas", content="Runners saw quokkas.", tags=["trip"])
    await create(client, headers, title="Other", content="nothing here", tags=["trip"])
    found = await (await client.get("/app/notes?q=runn")).get_json()
    assert found["count"] == 2 and found["count_cap"] == 1000
    assert [note["title"] for note in found["notes"]] == ["Running log", "Quokkas"]
    assert found["titles"][0] == [["Running", True], [" log", False]]
    # plain text (no Markdown marks), every matched word marked: what /notes?q= shows
    assert found["excerpts"][0] == [["Week I went ", False], ["running", True], [" ; Run more.", False]]
    page = await (await client.get("/notes?q=runn")).get_data(as_text=True)
    assert "Week I went <mark>running</mark> ; Run more." in page
    for url in ("/app/notes?q=run*+tag:trip", "/app/notes?q=runn&tag=trip"):
        tagged = await (await client.get(url)).get_json()
        assert [note["title"] for note in tagged["notes"]] == ["Quokkas"] and tagged["count"] == 1
    for url in ("/app/notes?tag=trip", "/app/notes?q=tag:trip"):
        tagged = await (await client.get(url)).get_json()
        assert [note["title"] for note in tagged["notes"]] == ["Other", "Quokkas"] and "count" not in tagged
    nothing = await (await client.get("/app/notes?q=tag:a.b")).get_json()
    assert nothing["notes"] == [] and nothing["more"] is False
