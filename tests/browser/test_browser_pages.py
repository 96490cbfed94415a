"""How the pages look on a phone in Chromium: a one-line header of one height signed in and out,
times in the reader's time zone (UTC without script), a favicon, and nothing the CSP refuses."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.support import CSP_WATCH, TIMEOUT_MS
from tests.server import Server

PHONE = {"width": 390, "height": 844}
ZONE = "Asia/Kolkata"  # +05:30 all year: never mistaken for UTC
PASSWORD = "correct horse battery"
ONE_LINE_MAX_PX = 56


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with Server(tmp_path_factory.mktemp("pages-server"), NOTES_ENV="development").start() as server:
        yield server.url
        server.terminate(timeout=5)


def open_page(browser: Any, server: str, **options: Any) -> Any:
    context = browser.new_context(base_url=server, viewport=PHONE, **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_WATCH)
    return context.new_page()


def header_height(page: Any) -> float:
    """The header's height, after checking its nav shows everything on one line, nothing scrolled away."""
    nav = page.locator("header nav")
    fits = nav.evaluate("(nav) => nav.scrollWidth <= nav.clientWidth")
    assert fits, f"the nav overflows at {PHONE['width']} px: {nav.inner_text()!r}"
    tops = {
        round(box["y"]) for box in (item.bounding_box() for item in nav.locator(":scope > *").all()) if box
    }
    height = float(page.locator("header").bounding_box()["height"])
    assert height <= ONE_LINE_MAX_PX and max(tops) - min(tops) < 16, (height, tops)
    return height


def no_csp_violations(page: Any) -> None:
    assert page.evaluate("window.cspViolations") == [], page.url


def local_text(moment: datetime) -> str:
    """What `Intl.DateTimeFormat("en-US", {dateStyle: "medium", timeStyle: "short"})` writes in ZONE."""
    local = moment.astimezone(ZoneInfo(ZONE))
    hour = local.hour % 12 or 12
    return f"{local:%b} {local.day}, {local.year}, {hour}:{local:%M} {local:%p}"


def test_phone_header_local_times_favicon_and_csp(browser: Any, server: str, sync_api: Any) -> None:
    page = open_page(browser, server, timezone_id=ZONE, locale="en-US")

    # Signed out: the header is one line; the favicon the page links to loads, and /favicon.ico too.
    page.goto("/")
    signed_out = header_height(page)
    icon = page.locator("link[rel=icon]").get_attribute("href")
    for path in (icon, "/favicon.ico"):
        response = page.request.get(path)
        assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml"), path
    favicon = page.evaluate(f"fetch({icon!r}).then((r) => r.ok && r.headers.get('content-type'))")
    assert favicon and favicon.startswith("image/svg+xml"), favicon  # as the page itself asks for it
    no_csp_violations(page)

    # Signed in (a new account, a long name): still one line, and the same height.
    page.goto("/register")
    page.fill("input[name=username]", "alexandra_longname")
    page.fill("input[name=email]", "alexandra@example.com")
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm_password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(re.escape(server) + "/$"))
    # The greeting is hidden on a phone: the header's room goes to the links (issue 23 item 8).
    sync_api.expect(page.locator("header nav .welcome")).to_be_hidden()
    sync_api.expect(page.locator("header nav").get_by_role("button", name="Logout")).to_be_in_viewport()
    assert header_height(page) == signed_out
    no_csp_violations(page)

    # A note's time, on the list, reads in the browser's time zone.
    page.goto("/notes/new")
    page.fill("input[name=title]", "Times")
    page.fill("textarea[name=content]", "when was this")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r".*/notes/\d+$"))
    page.goto("/notes")
    time = page.locator("ul.notes time").first
    moment = datetime.fromisoformat(time.get_attribute("datetime"))
    shown = " ".join(time.inner_text().replace("\u202f", " ").split())
    assert shown == local_text(moment), shown
    assert header_height(page) == signed_out
    no_csp_violations(page)

    # Without JavaScript the same time is UTC text.
    no_script = open_page(
        browser, server, java_script_enabled=False, storage_state=page.context.storage_state()
    )
    no_script.goto("/notes")
    assert no_script.locator("ul.notes time").first.inner_text() == f"{moment:%Y-%m-%d %H:%M} UTC"
    no_script.context.close()
    page.context.close()
