"""Every page at 1280 and 390 px, light and dark (SPEC §11, issue 23's browser checks): nothing
off-screen, buttons in line with their inputs, no duplicate ids, a short plain `<title>`, no console
error, nothing the CSP refuses, nothing loaded from another host. The tour is bench/screenshots.py's;
each page's screenshot is saved in the test's temporary directory for a look after a failure."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.screenshots import Seeded, file_name, seed, tour
from tests.browser.looks import duplicate_ids, misaligned, off_screen
from tests.browser.support import offline_context
from tests.server import Server

TITLE = re.compile(r"[^<>&]{1,60}")


@pytest.fixture(scope="module")
def seeded_server(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Seeded]]:
    with Server(tmp_path_factory.mktemp("every-page"), NOTES_ENV="development").start() as server:
        context = browser.new_context(base_url=server.url)
        seeded = seed(context)
        context.close()
        yield server.url, seeded
        server.terminate(timeout=5)


def test_every_page_at_both_widths_in_both_schemes(
    browser: Any, seeded_server: tuple[str, Seeded], tmp_path: Path
) -> None:
    server, seeded = seeded_server
    console: list[tuple[Any, str]] = []

    def context_for(browser: Any, server: str, **options: Any) -> Any:
        context, refused = offline_context(browser, server, **options)
        context.on("page", lambda page: watch(page, console))
        refused_lists.append(refused)
        return context

    refused_lists: list[list[str]] = []
    problems: list[str] = []
    seen = 0
    for stop, width, scheme, page in tour(browser, server, seeded, context_for):
        seen += 1
        where = f"{stop.name} at {width} px, {scheme}"
        page.screenshot(path=str(tmp_path / file_name(stop, width, scheme)), full_page=True)
        title = page.title()
        if not TITLE.fullmatch(title) or not title.endswith(" · notes-service"):
            problems.append(f"{where}: title {title!r}")
        for label, found in (
            ("off-screen", off_screen(page)),
            ("duplicate ids", duplicate_ids(page)),
            ("buttons out of line", misaligned(page)),
            ("CSP refused", page.evaluate("window.cspViolations")),
        ):
            if found:
                problems.append(f"{where}: {label} {found}")
        errors = [text for logged, text in console if logged is page and not expected(text, stop.status)]
        if errors:
            problems.append(f"{where}: console {errors}")
        if width == 390:
            nav = page.locator("header nav")
            if not nav.evaluate("(nav) => nav.scrollWidth <= nav.clientWidth"):
                problems.append(f"{where}: the header's links do not fit")
    elsewhere = sorted({url for refused in refused_lists for url in refused})
    if elsewhere:
        problems.append(f"loaded from another host: {elsewhere}")
    assert problems == [], "\n".join(problems)
    assert seen == 21 * 4
    assert len(list(tmp_path.glob("*.png"))) == seen


def watch(page: Any, console: list[tuple[Any, str]]) -> None:
    page.on("console", lambda message: message.type == "error" and console.append((page, message.text)))
    page.on("pageerror", lambda error: console.append((page, f"uncaught {error}")))


def expected(text: str, status: int) -> bool:
    """Chromium logs an error page's own status as a failed load; that is the page working."""
    prefix = f"Failed to load resource: the server responded with a status of {status} "
    return status >= 400 and text.startswith(prefix)
