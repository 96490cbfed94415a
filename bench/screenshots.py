"""`python -m bench.screenshots DIR`: a PNG of every page at 1280 and 390 px, light and dark.

The tour is the one `tests/browser/test_every_page.py` checks (off-screen elements, buttons out of
line, duplicate ids, titles, console errors, requests to other hosts), so what a reviewer looks at is
what the test measured. It starts its own `notes-service serve` on a temporary SQLite database, seeds
two accounts through the API and the pages, and needs Debian's Chromium and Playwright (the test
extras). Files are named `<page>-<width>-<scheme>.png`.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.browser.support import sign_in
from tests.helpers import PASSWORD

WIDTHS = (1280, 390)
SCHEMES = ("light", "dark")
NOTE = """Things to buy this week:
eggs
milk
bread

The shop's list is at https://example.com/shop?list=1

> Buy what you need, not what you see.

Run `make test` before leaving.

```
make install
    make test
```

- [x] write the list
- [ ] go shopping
"""


@dataclass
class Seeded:
    """What the tour needs from the seeded server: ada's sign-in and the ids of the notes made."""

    state: dict[str, Any]
    ids: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Stop:
    """One page of the tour: a path (or an action leaving the page there), whether ada is signed
    in, and the status the page answers with."""

    name: str
    path: str
    signed_in: bool = True
    status: int = 200
    action: Callable[[Any, str], int] | None = None


def seed(context: Any) -> Seeded:
    """Ada with notes (one in the trash, one pinned), Bob with one note; returns ada's sign-in."""
    api = context.request
    ids: dict[str, int] = {}
    for name in ("ada", "bob"):
        user = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        assert api.post("/api/users", data=user).status == 201
        token = api.post("/api/token", data={"email": user["email"], "password": PASSWORD}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        notes = [("note", "Groceries", NOTE, False), ("pinned", "Pinned plan", "Call the plumber.", True)]
        notes += [(f"more{n}", f"Idea {n}", f"A thought about eggs, number {n}.", False) for n in range(3)]
        notes += [("trashed", "Old list", "Nothing left to buy.", False)]
        for key, title, content, pinned in notes if name == "ada" else [("bobs", "Bob's", "for bob", False)]:
            made = api.post(
                "/api/notes", data={"title": title, "content": content, "is_pinned": pinned}, headers=headers
            )
            assert made.status == 201, made.text()
            ids[key] = made.json()["id"]
        if name == "ada":
            assert api.delete(f"/api/notes/{ids['trashed']}", headers=headers).status == 204
    page = context.new_page()
    sign_in(page, "ada@example.com")
    state: dict[str, Any] = context.storage_state()
    page.close()
    return Seeded(state, ids)


def conflict(page: Any, path: str) -> int:
    """Two tabs edit one note from the same version; this one saves second and gets the 409 page."""
    page.goto(path)
    other = page.context.new_page()
    other.goto(path)
    other.fill("textarea[name=content]", "Eggs, milk and butter.\nAnd bread.")
    other.click("main form button[type=submit]:has-text('Save')")
    other.wait_for_url(re.compile(r".*/notes/\d+$"))
    other.close()
    page.fill("textarea[name=content]", "Eggs, milk and cheese.\nAnd bread.\nAnd tea.")
    with page.expect_response(lambda response: response.request.method == "POST") as answer:
        page.click("main form button[type=submit]:has-text('Save')")
    page.wait_for_load_state()
    return int(answer.value.status)


def stops(ids: dict[str, int]) -> list[Stop]:
    """Every page a person can reach, signed out and in, errors included."""
    return [
        Stop("home", "/", signed_in=False),
        Stop("login", "/login", signed_in=False),
        Stop("register", "/register", signed_in=False),
        Stop("forgot", "/password/forgot", signed_in=False),
        Stop("reset-invalid", "/password/reset?token=nope", signed_in=False, status=400),
        Stop("not-found", "/no-such-page", signed_in=False, status=404),
        Stop("home-signed-in", "/"),
        Stop("dashboard", "/dashboard"),
        Stop("notes", "/notes"),
        Stop("search", "/notes?q=eggs"),
        Stop("note", f"/notes/{ids['note']}"),
        Stop("new-note", "/notes/new"),
        Stop("edit-note", f"/notes/{ids['note']}/edit"),
        Stop("conflict-409", f"/notes/{ids['more0']}/edit", status=409, action=conflict),
        Stop("trash", "/trash"),
        Stop("settings", "/settings"),
        Stop("two-factor", "/settings/2fa"),
        Stop("logout", "/logout"),
        Stop("in-trash-404", f"/notes/{ids['trashed']}", status=404),
        Stop("not-yours-403", f"/notes/{ids['bobs']}", status=403),
        Stop("not-allowed-405", "/trash/empty", status=405),
    ]


def visit(page: Any, stop: Stop) -> int:
    """Go to the stop; returns the status its page answered with."""
    if stop.action is not None:
        return stop.action(page, stop.path)
    response = page.goto(stop.path)
    assert response is not None, stop
    return int(response.status)


def tour(
    browser: Any, server: str, seeded: Seeded, context_for: Callable[..., Any]
) -> Iterator[tuple[Stop, int, str, Any]]:
    """Each stop at each width and scheme: (stop, width, scheme, page), the page already there.
    `context_for(browser, server, **options)` makes the browser context (tests add their watches)."""
    for width in WIDTHS:
        for scheme in SCHEMES:
            for signed_in in (False, True):
                options: dict[str, Any] = {
                    "viewport": {"width": width, "height": 900},
                    "color_scheme": scheme,
                }
                if signed_in:
                    options["storage_state"] = seeded.state
                context = context_for(browser, server, **options)
                try:
                    for stop in stops(seeded.ids):
                        if stop.signed_in != signed_in:
                            continue
                        page = context.new_page()
                        status = visit(page, stop)
                        assert status == stop.status, (stop, status)
                        yield stop, width, scheme, page
                        page.close()
                finally:
                    context.close()


def file_name(stop: Stop, width: int, scheme: str) -> str:
    return f"{stop.name}-{width}-{scheme}.png"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.screenshots", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the directory the PNGs are written to")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
    from tests.server import Server

    args.out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as workdir,
        Server(Path(workdir), NOTES_ENV="development").start() as server,
    ):
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            seeding = browser.new_context(base_url=server.url)
            seeded = seed(seeding)
            seeding.close()

            def context_for(browser: Any, server: str, **options: Any) -> Any:
                return browser.new_context(base_url=server, **options)

            for stop, width, scheme, page in tour(browser, server.url, seeded, context_for):
                path = args.out / file_name(stop, width, scheme)
                page.screenshot(path=str(path), full_page=True)
                print(path)
            browser.close()
        server.terminate(timeout=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
