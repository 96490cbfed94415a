"""How the pages look (SPEC §11 Look, issue 23 item 8), measured in Chromium: light and dark follow
the system, buttons line up with their inputs, a phone's header keeps its room for links, and flash
banners are no wider than the card they sit above."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.looks import aligned_pairs, contrast, luminance, misaligned
from tests.browser.support import offline_context, sign_in
from tests.helpers import PASSWORD
from tests.server import Server

WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with Server(tmp_path_factory.mktemp("look-server"), NOTES_ENV="development").start() as server:
        yield server.url
        server.terminate(timeout=5)


@pytest.fixture(scope="module")
def signed_in(browser: Any, server: str) -> dict[str, Any]:
    """The storage state of a browser signed in as a new account with one note."""
    context, _ = offline_context(browser, server)
    user = {"username": "looker_with_a_long_name", "email": "look@example.com", "password": PASSWORD}
    assert context.request.post("/api/users", data=user).status == 201
    page = context.new_page()
    sign_in(page, user["email"])
    page.goto("/notes/new")
    page.fill("input[name=title]", "Groceries")
    page.fill("textarea[name=content]", "eggs\nmilk")
    page.fill("input[name=tags]", "food")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/notes/\d+$"))
    state: dict[str, Any] = context.storage_state()
    context.close()
    return state


def open_page(browser: Any, server: str, **options: Any) -> Any:
    context, elsewhere = offline_context(browser, server, **options)
    page = context.new_page()
    page.elsewhere = elsewhere
    return page


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_colours_follow_the_system_and_stay_readable(
    browser: Any, server: str, signed_in: dict[str, Any], scheme: str
) -> None:
    # The server's own page, as it is without script (the app's look: the test after this one).
    page = open_page(
        browser,
        server,
        viewport=WIDE,
        color_scheme=scheme,
        storage_state=signed_in,
        java_script_enabled=False,
    )
    page.goto("/notes")
    background, field = luminance(page, "body"), luminance(page, "input[type=search]")
    if scheme == "dark":
        assert background < 0.03 and field < 0.05, (background, field)
    else:
        assert background > 0.85 and field > 0.95, (background, field)
    for selector, least in (
        ("main h1", 7.0),
        ("ul.notes a", 7.0),
        (".note .preview", 4.5),
        ("header nav a", 4.5),
    ):
        assert contrast(page, selector) >= least, (scheme, selector, contrast(page, selector))
    button = page.locator("form.search button")
    ink = luminance(page, "form.search button", "color")
    paint = luminance(page, "form.search button")
    assert (max(ink, paint) + 0.05) / (min(ink, paint) + 0.05) >= 4.5, (scheme, ink, paint)
    assert button.is_visible()
    page.context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_app_follows_the_system_too_and_keeps_the_tag_list(
    browser: Any, server: str, signed_in: dict[str, Any], scheme: str
) -> None:
    """With script on, /notes is the app (static/app/): its list, search and the tag list beside
    the notes, readable in both schemes."""
    page = open_page(browser, server, viewport=WIDE, color_scheme=scheme, storage_state=signed_in)
    page.goto("/notes")
    page.locator(".app-item-title").first.wait_for()
    field = luminance(page, "#app-q")
    assert (field < 0.05) if scheme == "dark" else (field > 0.95), (scheme, field)
    assert contrast(page, ".app-item-title") >= 7.0, (scheme, contrast(page, ".app-item-title"))
    assert page.locator(".app .tag-list a", has_text="#food").is_visible()
    page.locator(".app .tag-list a", has_text="#food").click()
    page.wait_for_url(re.compile(r".*/notes\?tag=food$"))  # in place: the app's list keeps to the tag
    page.locator(".app-item-title", has_text="Groceries").wait_for()
    assert page.locator("#app-q").input_value() == "tag:food"
    page.context.close()


@pytest.mark.parametrize(("viewport", "path"), [(WIDE, "/settings"), (WIDE, "/notes"), (PHONE, "/notes")])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_buttons_line_up_with_the_inputs_beside_them(
    browser: Any, server: str, signed_in: dict[str, Any], viewport: dict[str, int], path: str, scheme: str
) -> None:
    page = open_page(
        browser,
        server,
        viewport=viewport,
        color_scheme=scheme,
        storage_state=signed_in,
        java_script_enabled=False,
    )
    page.goto(path)
    # /settings at 1280: the change-email row (2 inputs) and the new-token row (2); /notes: search.
    assert aligned_pairs(page) >= (4 if path == "/settings" else 1), path
    assert misaligned(page) == [], path
    page.context.close()


def test_a_phone_header_spends_no_room_on_the_greeting(
    browser: Any, server: str, signed_in: dict[str, Any], sync_api: Any
) -> None:
    expect = sync_api.expect
    wide = open_page(browser, server, viewport=WIDE, storage_state=signed_in)
    wide.goto("/notes")
    expect(wide.locator("header .welcome")).to_be_visible()
    expect(wide.locator("header .welcome")).to_have_text("Welcome, looker_with_a_long_name")
    wide.context.close()
    phone = open_page(browser, server, viewport=PHONE, storage_state=signed_in)
    phone.goto("/notes")
    expect(phone.locator("header .welcome")).to_be_hidden()
    for name in ("Notes", "Trash", "Settings"):
        expect(phone.locator("header nav").get_by_role("link", name=name)).to_be_in_viewport(ratio=1)
    expect(phone.locator("header nav").get_by_role("button", name="Logout")).to_be_in_viewport(ratio=1)
    phone.context.close()


@pytest.mark.parametrize("viewport", [WIDE, PHONE])
@pytest.mark.parametrize("path", ["/login", "/register"])
def test_flash_banners_are_no_wider_than_the_card(
    browser: Any, server: str, viewport: dict[str, int], path: str
) -> None:
    page = open_page(browser, server, viewport=viewport)
    # Signed out, asking for /settings queues "Please log in to access this page." for the next page.
    assert page.request.get("/settings", max_redirects=0).status == 302
    page.goto(path)
    flash, card = page.locator(".flashes").bounding_box(), page.locator("main .card").bounding_box()
    assert flash is not None and card is not None, page.content()
    assert flash["x"] >= card["x"] - 0.5, (flash, card)
    assert flash["x"] + flash["width"] <= card["x"] + card["width"] + 0.5, (flash, card)
    page.context.close()
