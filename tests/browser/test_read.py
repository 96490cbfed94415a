"""A note reads as typed (SPEC §11 Read, issue 23 item 2), measured in Chromium in light and dark at
1280 and 390 px: line breaks show, a bare URL is a link, and blockquotes, inline code and code blocks
each stand apart from the text around them, readably, without pushing the page sideways."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.looks import luminance, off_screen
from tests.browser.support import offline_context
from tests.server import Server

PASSWORD = "correct horse battery"
NOTE = """eggs
milk
bread

see https://example.com/shop?list=1 now

> a quoted line
> and its second line

use `git status` here

```
block
    indented four
a very long line of code that goes on and on and on and on and on and on and on and on and on and on
```
"""


@pytest.fixture(scope="module")
def note_url(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    with Server(tmp_path_factory.mktemp("read-server"), NOTES_ENV="development").start() as server:
        context, _ = offline_context(browser, server.url)
        user = {"username": "reader", "email": "reader@example.com", "password": PASSWORD}
        assert context.request.post("/api/users", data=user).status == 201
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=email]", user["email"])
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r".*/$"))
        page.goto("/notes/new")
        page.fill("input[name=title]", "Reading")
        page.fill("textarea[name=content]", NOTE)
        page.click("main form button[type=submit]")
        page.wait_for_url(re.compile(r".*/notes/\d+$"))
        state = context.storage_state()
        url = page.url
        context.close()
        yield f"{server.url}|{url}", state
        server.terminate(timeout=5)


def ratio(a: float, b: float) -> float:
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


@pytest.mark.parametrize("script", [False, True], ids=["page", "app"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 390])
def test_a_note_reads_as_typed(
    browser: Any, note_url: tuple[str, Any], width: int, scheme: str, script: bool
) -> None:
    addresses, state = note_url
    server, url = addresses.split("|")
    # The note page as the server writes it, and as the app shows it (its reading view is the same
    # element, moved into the app's pane).
    context, elsewhere = offline_context(
        browser,
        server,
        viewport={"width": width, "height": 900},
        color_scheme=scheme,
        storage_state=state,
        java_script_enabled=script,
    )
    page = context.new_page()
    page.goto(url)
    content = ".app .content:not([hidden])" if script else ".note-full .content"
    page.locator(content).first.wait_for()
    paper = luminance(page, ".card")
    ink = luminance(page, content, "color")

    # Three typed lines are three lines on screen.
    first = page.locator(f"{content} > p").first
    lines = first.evaluate(
        "(p) => p.getBoundingClientRect().height / parseFloat(getComputedStyle(p).lineHeight)"
    )
    assert round(lines) == 3, lines

    # A bare URL is a link, in a colour readable on the card.
    link = page.locator(f'{content} a[href="https://example.com/shop?list=1"]')
    assert link.inner_text() == "https://example.com/shop?list=1"
    assert ratio(luminance(page, f"{content} a", "color"), paper) >= 4.5

    # A blockquote: a visible rule on its left, indented, readable.
    quote = page.locator(f"{content} blockquote")
    rule = quote.evaluate("(q) => parseFloat(getComputedStyle(q).borderLeftWidth)")
    assert rule >= 2, rule
    assert ratio(luminance(page, f"{content} blockquote", "borderLeftColor"), paper) >= 1.5
    assert quote.locator("p").bounding_box()["x"] > first.bounding_box()["x"] + 4  # its text is set in
    assert ratio(luminance(page, f"{content} blockquote", "color"), paper) >= 4.5

    # Inline code and a code block: monospace on a tint of their own, readable.
    for selector in (f"{content} p > code", f"{content} pre"):
        font = page.locator(selector).evaluate("(e) => getComputedStyle(e).fontFamily")
        assert "mono" in font.lower(), (selector, font)
        tint = luminance(page, selector)
        assert ratio(tint, paper) >= 1.05, (selector, tint, paper)
        assert ratio(luminance(page, selector, "color"), tint) >= 7, selector
    assert ratio(ink, paper) >= 7

    # The code block keeps its indentation and scrolls inside itself, not the page.
    assert "    indented four" in page.locator(f"{content} pre").inner_text()
    assert page.locator(f"{content} pre").evaluate("(e) => getComputedStyle(e).overflowX") == "auto"
    assert off_screen(page) == [], off_screen(page)
    assert elsewhere == []
    context.close()
