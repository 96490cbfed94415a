"""Headless Chromium (Playwright) for the browser tests, shared by every module here.

Chromium is Debian's (`/usr/bin/chromium`); without it the tests are skipped, unless
`NOTES_TEST_REQUIRE_SERVICES=1`, which turns that into a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import BACKEND
from tests.helpers import unavailable

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module", autouse=True)
def once_per_ci_run() -> None:
    """The browser tests' servers are SQLite ones whatever NOTES_TEST_DATABASE says (what a page
    does is the same on both databases; the routes' own tests run on each): the PostgreSQL pass
    would repeat them exactly, so it skips them."""
    if BACKEND == "postgresql":
        pytest.skip("the browser tests serve SQLite: they ran in the SQLite pass")


@pytest.fixture(scope="module")
def sync_api() -> Any:
    """playwright.sync_api, or a skip/failure when Chromium or Playwright is not there."""
    if not CHROMIUM.exists():
        unavailable(f"Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        unavailable("the playwright Python package")
    return sync_api


@pytest.fixture(scope="module")
def browser(sync_api: Any) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
