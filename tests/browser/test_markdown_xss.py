"""The XSS corpus rendered through the note page of the real server, in Chromium (SPEC §9): no
entry runs script (no alert, no `window.pwned`), and the page has no script element of the note's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.server import Server
from tests.xss_corpus import XSS_CORPUS

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with Server(tmp_path_factory.mktemp("xss-server"), NOTES_ENV="development").start() as server:
        yield server.url
        server.terminate(timeout=5.0)


def test_no_corpus_entry_runs_script_in_chromium(browser: Any, server: str, sync_api: Any) -> None:
    context = browser.new_context(base_url=server)
    context.set_default_timeout(10_000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    api = context.request
    user = {"username": "xss", "email": "xss@example.com", "password": PASSWORD}
    assert api.post("/api/users", data=user).status == 201
    token = api.post("/api/token", data={"email": user["email"], "password": PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    ids = []
    for number, source in enumerate(XSS_CORPUS):
        response = api.post("/api/notes", data={"title": f"xss {number}", "content": source}, headers=headers)
        assert response.status == 201
        ids.append(response.json()["id"])

    page.goto("/login")
    page.fill("input[name=email]", user["email"])
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    for note_id, source in zip(ids, XSS_CORPUS, strict=True):
        page.goto(f"/notes/{note_id}")
        content = page.locator("main .content")
        sync_api.expect(content).to_be_visible()
        # Hover and click every link and button the note made: a handler would fire now.
        for link in content.locator("a, button, details, summary").all():
            link.hover()
        assert page.evaluate("window.pwned === undefined"), source
        assert content.locator("script, svg, iframe, img, style, form, math").count() == 0, source
        # The DOM itself, not whether a script ran (the CSP would stop most anyway): no handler.
        handlers = content.evaluate(
            "el => [el, ...el.querySelectorAll('*')].flatMap(e => [...e.attributes])"
            ".map(a => a.name).filter(name => name.startsWith('on'))"
        )
        assert handlers == [], (source, handlers)
        hrefs = [link.get_attribute("href") or "" for link in content.locator("a").all()]
        assert all(href.startswith(("http://", "https://", "mailto:", "/")) for href in hrefs), (
            source,
            hrefs,
        )
    assert dialogs == []
    context.close()
