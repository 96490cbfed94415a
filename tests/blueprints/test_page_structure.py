"""Every page as a person's browser reads it (issue 20 item 16, SPEC §7, §11): a short text `<title>`,
no element id used twice, each label pointing at a field of its own, and every form SPEC names for a
page inside its `<body>` — a form the routes accept but nobody can find is a defect."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest

from notes_service.services import notes as notes_service
from tests.helpers import login
from tests.two_factor import Clock, enrol


class Page(HTMLParser):
    """What a browser would show: the title's text and the body's forms, ids and labels."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.title = ""
        self.title_tags = 0
        self.in_title = self.in_body = False
        self.forms: list[tuple[str, set[str]]] = []  # (action, the names of its fields)
        self.links: set[str] = set()
        self.ids: list[str] = []
        self.label_targets: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if self.in_title:
            self.title_tags += 1
        if tag == "title":
            self.in_title = True
        if tag == "body":
            self.in_body = True
        if not self.in_body:
            return
        if attributes.get("id"):
            self.ids.append(attributes["id"] or "")
        if tag == "form":
            self.forms.append((attributes.get("action") or "", set()))
        if tag in {"input", "textarea", "select", "button"} and self.forms and attributes.get("name"):
            self.forms[-1][1].add(attributes["name"] or "")
        if tag == "label" and attributes.get("for"):
            self.label_targets.append(attributes["for"] or "")
        if tag == "a" and attributes.get("href"):
            self.links.add(attributes["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag == "body":
            self.in_body = False

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data

    def fields_of(self, action: str) -> set[str]:
        """The field names of the body's form posting to `action` (fails when there is none)."""
        found = [fields for form_action, fields in self.forms if form_action.split("?")[0] == action]
        assert found, f"no form posting to {action} in <body>; forms: {[a for a, _ in self.forms]}"
        return set().union(*found)


def check_page(html: str) -> Page:
    page = Page(html)
    assert page.title_tags == 0 and 0 < len(page.title.strip()) <= 80, repr(page.title[:200])
    twice = [element_id for element_id, count in Counter(page.ids).items() if count > 1]
    assert not twice, f"ids used twice: {twice}"
    missing = [target for target in page.label_targets if target not in page.ids]
    assert not missing, f"labels for no field: {missing}"
    return page


async def page_at(client, path: str, status: int = 200) -> Page:  # type: ignore[no-untyped-def]
    response = await client.get(path)
    assert response.status_code == status, path
    return check_page(await response.get_data(as_text=True))


async def test_the_pages_of_someone_signed_out(client) -> None:
    assert {"username", "email", "password", "confirm_password"} <= (
        await page_at(client, "/register")
    ).fields_of("/register")
    login_page = await page_at(client, "/login")
    assert {"email", "password", "remember", "csrf_token"} <= login_page.fields_of("/login")
    assert "/password/forgot" in login_page.links
    assert "email" in (await page_at(client, "/password/forgot")).fields_of("/password/forgot")
    for path in ("/", "/logout"):
        await page_at(client, path)
    await page_at(client, "/password/reset?token=nothing", 400)
    await page_at(client, "/no-such-page", 404)


async def test_settings_shows_every_section_spec_names(client, factory) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    page = await page_at(client, "/settings")
    assert {"current_password", "new_password", "confirm_password"} <= page.fields_of("/settings/password")
    page.fields_of("/settings/sessions/revoke-others")
    assert {"name", "expires_in_days"} <= page.fields_of("/settings/tokens")
    assert {"email", "current_password"} <= page.fields_of("/settings/email")
    page.fields_of("/settings/email/verify")
    assert {"current_password", "confirm"} <= page.fields_of("/settings/delete")
    assert "/settings/export" in page.links and "/settings/2fa" in page.links


async def test_the_pages_of_someone_signed_in(client, factory, store, monkeypatch) -> None:
    alice = await factory.user("alice")
    async with store.write():
        note = await notes_service.create_note(store, author_id=alice.id, title="t", content="# c")
        gone = await notes_service.create_note(store, author_id=alice.id, title="g", content="g")
        await notes_service.trash_note(store, author_id=alice.id, note_id=gone.id)
    await login(client, "alice@example.com")
    for path in ("/", "/dashboard", "/notes", "/notes?q=c", "/trash", f"/notes/{note.id}"):
        await page_at(client, path)
    assert {"title", "content", "is_pinned"} <= (await page_at(client, "/notes/new")).fields_of("/notes/new")
    edit = await page_at(client, f"/notes/{note.id}/edit")
    assert {"title", "content", "version"} <= edit.fields_of(f"/notes/{note.id}/edit")
    await page_at(client, f"/notes/{gone.id}", 404)
    assert {"code", "current_password"} <= (await page_at(client, "/settings/2fa")).fields_of("/settings/2fa")
    enrolled = check_page((await enrol(client, Clock(monkeypatch))).page)
    assert enrolled.title
    two_factor_on = await page_at(client, "/settings/2fa")
    assert {"current_password", "code"} <= two_factor_on.fields_of("/settings/2fa/disable")
    assert "code" in two_factor_on.fields_of("/settings/2fa/recovery-codes")


@pytest.mark.parametrize("html", ["<title>Settings<section>x</section></title><body></body>"])
def test_a_title_holding_markup_is_caught(html: str) -> None:
    with pytest.raises(AssertionError):
        check_page(html)
