"""Two tabs edit the same note (SPEC §9): the second save is refused with 409, keeps its text and
says why; nothing of it is written."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from notes_service.blueprints.notes import CHANGED_ELSEWHERE
from tests.server import Server

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with Server(tmp_path_factory.mktemp("conflict-server"), NOTES_ENV="development").start() as server:
        yield server.url
        server.terminate(timeout=5.0)


def test_second_tab_saving_an_old_version_gets_409_with_its_text(
    browser: Any, server: str, sync_api: Any
) -> None:
    expect = sync_api.expect
    context = browser.new_context(base_url=server)
    context.set_default_timeout(10_000)
    api = context.request
    user = {"username": "tabs", "email": "tabs@example.com", "password": PASSWORD}
    assert api.post("/api/users", data=user).status == 201
    first = context.new_page()
    first.goto("/login")
    first.fill("input[name=email]", user["email"])
    first.fill("input[name=password]", PASSWORD)
    first.click("main form button[type=submit]")
    first.wait_for_load_state()
    first.goto("/notes/new")
    first.fill("input[name=title]", "Shared")
    first.fill("textarea[name=content]", "original")
    first.click("main form button[type=submit]")
    first.wait_for_url(re.compile(r"/notes/\d+$"))
    edit_url = first.url + "/edit"

    second = context.new_page()  # same browser, same sign-in: a second tab
    first.goto(edit_url)
    second.goto(edit_url)
    first.fill("textarea[name=content]", "saved in the first tab")
    first.click("main form button[type=submit]:has-text('Save')")
    expect(first.locator("main .content")).to_have_text("saved in the first tab")

    second.fill("textarea[name=content]", "my words from the second tab")
    with second.expect_response(lambda response: response.request.method == "POST") as answer:
        second.click("main form button[type=submit]:has-text('Save')")
    assert answer.value.status == 409
    expect(second.locator("main .conflict [role=alert]")).to_have_text(CHANGED_ELSEWHERE)
    expect(second.locator("textarea[name=content]")).to_have_value("my words from the second tab")
    # The current version and what the second tab's text changes in it, as a person sees them.
    expect(second.locator("main .current-version")).to_contain_text("saved in the first tab")
    expect(second.locator("main .diff del")).to_have_text(["saved in the first tab"])
    expect(second.locator("main .diff ins")).to_have_text(["my words from the second tab"])

    first.reload()
    expect(first.locator("main .content")).to_have_text("saved in the first tab")
    # Saving the 409 page again keeps the second tab's text on purpose.
    second.click("main form button[type=submit]:has-text('Save')")
    expect(second.locator("main .content")).to_have_text("my words from the second tab")
    context.close()
