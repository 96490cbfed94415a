"""End-to-end browser flow against the real server, driven by headless Chromium (Playwright).

The server is started the way a person would start it: `notes-service db upgrade`, then
`notes-service serve`, in a temporary directory (where the development secret key is generated),
on plain http at 127.0.0.1 and a free port. The browser comes from tests/browser/conftest.py.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.support import TIMEOUT_MS
from tests.server import Server

STOP_TIMEOUT = 5.0
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a brand new passphrase"
REMEMBER_DAYS = 30  # the default NOTES_REMEMBER_DAYS

# Flash messages and page texts (SPEC §2 and the templates).
ACCOUNT_CREATED = "Account created successfully."
LOGGED_IN = "Logged in successfully."
LOGGED_OUT = "You have been logged out."
PLEASE_LOG_IN = "Please log in to access this page."
PASSWORD_CHANGED = "Your password has been changed."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`notes-service serve` on a fresh database, as `make run` starts it; yields its base URL."""
    workdir = tmp_path_factory.mktemp("browser-server")
    with Server(workdir, NOTES_ENV="development").start() as server:
        assert (workdir / "instance" / "secret_key").exists(), "no development secret generated"
        yield server.url
        assert server.terminate(timeout=STOP_TIMEOUT) == 0


@pytest.fixture
def new_page(browser: Any, server: str) -> Iterator[Any]:
    """Open pages, each in a fresh browser context (its own cookies) based at the server."""
    contexts: list[Any] = []

    def open_page() -> Any:
        context = browser.new_context(base_url=server)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())  # the Delete button's confirm()
        return page

    yield open_page
    for context in contexts:
        context.close()


# --- what a person does -------------------------------------------------------------------------


def path_is(server: str, path: str) -> re.Pattern[str]:
    """A URL pattern for `path` (optionally with a query) on the server."""
    return re.compile(re.escape(server + path) + r"(\?.*)?$")


def flash(page: Any, expect: Any, category: str, text: str) -> None:
    expect(page.locator(f"li.flash.flash-{category}")).to_contain_text(text)


def submit(page: Any, fields: dict[str, str], button: str) -> None:
    """Type each value into the field its selector names, then press `button`."""
    for selector, value in fields.items():
        page.fill(selector, value)
    page.click(button)


def register(page: Any, expect: Any, server: str, username: str, email: str) -> None:
    page.goto("/register")
    fields = {
        "input[name=username]": username,
        "input[name=email]": email,
        "input[name=password]": PASSWORD,
        "input[name=confirm_password]": PASSWORD,
    }
    submit(page, fields, "form button[type=submit]:has-text('Register')")
    page.wait_for_url(path_is(server, "/"))
    flash(page, expect, "success", ACCOUNT_CREATED)
    expect(page.locator("header nav .welcome")).to_have_text(f"Welcome, {username}")


def logout_via_nav(page: Any, expect: Any, server: str) -> None:
    page.locator("header nav").get_by_role("button", name="Logout").click()
    page.wait_for_url(path_is(server, "/login"))
    flash(page, expect, "info", LOGGED_OUT)
    expect(page.locator("header nav")).to_contain_text("Login")
    expect(page.locator("header nav .welcome")).to_have_count(0)


def fill_login(page: Any, email: str, password: str, *, remember: bool) -> None:
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    if remember:
        page.check("input[name=remember]")
    page.click("main form button[type=submit]:has-text('Log in')")


def create_note(page: Any, expect: Any, server: str, title: str, content: str, pinned: bool) -> str:
    """Create a note through /notes/new; returns its URL path (/notes/<id>)."""
    page.goto("/notes/new")
    page.fill("input[name=title]", title)
    page.fill("textarea[name=content]", content)
    if pinned:
        page.check("input[name=is_pinned]")
    page.click("main form button[type=submit]:has-text('Create note')")
    page.wait_for_url(re.compile(re.escape(server) + r"/notes/\d+$"))
    expect(page.locator("main h1")).to_contain_text(title)
    expect(page.locator("main .content")).to_have_text(content)
    if pinned:
        expect(page.locator("main h1 .pin")).to_have_count(1)
    return page.url.removeprefix(server)


def auth_cookie(page: Any) -> dict[str, Any]:
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert "notes_auth" in cookies, f"no notes_auth cookie, only {sorted(cookies)}"
    return cookies["notes_auth"]


# --- tests --------------------------------------------------------------------------------------


def test_full_browser_flow(new_page: Any, server: str, sync_api: Any) -> None:
    expect = sync_api.expect
    page = new_page()

    # The home page of a visitor offers Login and Register, with the security headers.
    response = page.goto("/")
    assert response is not None and response.status == 200
    headers = response.headers
    assert headers.get("x-content-type-options") == "nosniff"
    assert "referrer-policy" in headers
    assert "x-frame-options" in headers or "frame-ancestors" in headers.get("content-security-policy", "")
    expect(page.locator("header nav")).to_contain_text("Register")

    # User A registers: signed in at once, with a browser-session (non-persistent) cookie.
    register(page, expect, server, "alice", "alice@example.com")
    cookie = auth_cookie(page)
    assert cookie["httpOnly"] is True
    assert cookie["secure"] is False  # plain http on 127.0.0.1 must still work
    assert cookie["expires"] == -1, f"a new account's cookie should not persist: {cookie}"

    # Logout from the nav (a POST form).
    logout_via_nav(page, expect, server)

    # Log in with "remember me": a persistent, HttpOnly, SameSite=Lax cookie.
    page.goto("/login")
    fill_login(page, "alice@example.com", PASSWORD, remember=True)
    page.wait_for_url(path_is(server, "/"))
    flash(page, expect, "success", LOGGED_IN)
    expect(page.locator("header nav .welcome")).to_have_text("Welcome, alice")
    cookie = auth_cookie(page)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    days_left = (cookie["expires"] - time.time()) / 86400
    assert REMEMBER_DAYS - 1 < days_left <= REMEMBER_DAYS + 1, f"not persistent: {cookie}"

    # Notes: one plain, one pinned, then a newer plain one.
    groceries = create_note(page, expect, server, "Groceries", "milk, eggs, bread", pinned=False)
    flash(page, expect, "success", "Note created.")
    plan = create_note(page, expect, server, "Pinned plan", "the important one", pinned=True)
    markup = "<script>window.injected = 1</script> written last"
    later = create_note(page, expect, server, "Later thought", markup, pinned=False)
    # Markdown with raw HTML off: the tag is shown as text, no script element made it into the page
    # (the CSP would only stop it running), and nothing ran.
    assert page.locator("main .content script").count() == 0
    assert "<script>" in page.locator("main .content").inner_text()
    assert page.evaluate("window.injected === undefined")
    assert len({groceries, plan, later}) == 3

    # /notes lists pinned first, then newest first.
    page.goto("/notes")
    titles = page.locator("ul.notes li .note-title")
    expect(titles).to_have_text(["Pinned plan", "Later thought", "Groceries"])
    expect(page.locator("ul.notes li").first).to_have_class(re.compile(r"\bpinned\b"))

    # Edit a note: the page shows the new title, the old one is gone.
    page.goto(f"{groceries}/edit")
    expect(page.locator("input[name=title]")).to_have_value("Groceries")
    page.fill("input[name=title]", "Groceries for Sunday")
    page.click("main form button[type=submit]:has-text('Save')")
    page.wait_for_url(path_is(server, groceries))
    flash(page, expect, "success", "Note saved.")
    expect(page.locator("main h1")).to_have_text("Groceries for Sunday")
    expect(page.locator("main .content")).to_have_text("milk, eggs, bread")
    page.goto("/notes")
    expect(page.locator("ul.notes")).to_contain_text("Groceries for Sunday")

    # Move a note to the trash (SPEC §9); the flash's Undo brings it back, then it goes again.
    page.goto(later)
    page.get_by_role("button", name="Move to trash").click()
    page.wait_for_url(path_is(server, "/notes"))
    flash(page, expect, "info", "Note moved to trash.")
    expect(titles).to_have_text(["Pinned plan", "Groceries for Sunday"])
    page.locator("li.flash").get_by_role("button", name="Undo").click()
    page.wait_for_url(path_is(server, later))
    flash(page, expect, "success", "Note restored.")
    page.get_by_role("button", name="Move to trash").click()
    page.wait_for_url(path_is(server, "/notes"))
    assert page.goto(later).status == 404
    page.goto("/trash")
    expect(page.locator("ul.notes li .note-title")).to_have_text(["Later thought"])

    # User B, in a fresh browser context, writes a private note.
    page_b = new_page()
    register(page_b, expect, server, "bob", "bob@example.com")
    secret = create_note(page_b, expect, server, "Bob's secret", "for bob only", pinned=False)

    # A may not read it: 403 page, and nothing of the note shown.
    response = page.goto(secret)
    assert response is not None and response.status == 403
    expect(page.locator("main h1")).to_have_text("This note belongs to another account")
    expect(page.locator("main")).not_to_contain_text("for bob only")
    assert page.goto(f"{secret}/edit").status == 403
    # ... and B's list does not show A's notes.
    page_b.goto("/notes")
    expect(page_b.locator("ul.notes li .note-title")).to_have_text(["Bob's secret"])

    # A second browser of A's, which the password change below must sign out.
    other_a = new_page()
    other_a.goto("/login")
    fill_login(other_a, "alice@example.com", PASSWORD, remember=True)
    other_a.wait_for_url(path_is(server, "/"))
    expect(other_a.locator("header nav .welcome")).to_have_text("Welcome, alice")

    # A changes the password on /settings and stays signed in.
    page.goto("/settings")
    fields = {
        "#password input[name=current_password]": PASSWORD,
        "#password input[name=new_password]": NEW_PASSWORD,
        "#password input[name=confirm_password]": NEW_PASSWORD,
    }
    submit(page, fields, "#password button[type=submit]")
    page.wait_for_url(path_is(server, "/settings"))
    flash(page, expect, "success", PASSWORD_CHANGED)
    expect(page.locator("header nav .welcome")).to_have_text("Welcome, alice")
    other_a.goto("/notes")
    other_a.wait_for_url(re.compile(re.escape(server) + r"/login\?next="))
    expect(other_a.locator("header nav .welcome")).to_have_count(0)

    # Log out; the old password no longer works, the new one does.
    logout_via_nav(page, expect, server)
    fill_login(page, "alice@example.com", PASSWORD, remember=False)
    flash(page, expect, "danger", "Invalid email or password.")
    fill_login(page, "alice@example.com", NEW_PASSWORD, remember=False)
    page.wait_for_url(path_is(server, "/"))
    flash(page, expect, "success", LOGGED_IN)

    # GET /logout is a page with a button; only pressing it logs out.
    page.goto("/logout")
    expect(page.locator("header nav .welcome")).to_have_text("Welcome, alice")
    page.locator("main").get_by_role("button", name="Log out").click()
    page.wait_for_url(path_is(server, "/login"))
    flash(page, expect, "info", LOGGED_OUT)


def test_protected_page_redirects_to_login_and_back(new_page: Any, server: str, sync_api: Any) -> None:
    expect = sync_api.expect
    page = new_page()
    register(page, expect, server, "carol", "carol@example.com")
    logout_via_nav(page, expect, server)

    # A protected page while logged out: to /login?next=<path and query>, with a warning.
    original = "/notes?page=1&sort=a%26b"
    page.goto(original)
    page.wait_for_url(re.compile(re.escape(server) + r"/login\?next="))
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query)
    assert query == {"next": [original]}, page.url
    flash(page, expect, "warning", PLEASE_LOG_IN)
    expect(page.locator("input[name=next]")).to_have_value(original)

    # Logging in lands back on that page.
    fill_login(page, "carol@example.com", PASSWORD, remember=False)
    page.wait_for_url(re.compile(re.escape(server + original) + "$"))
    flash(page, expect, "success", LOGGED_IN)
    expect(page.locator("main h1")).to_contain_text("Your notes")
    cookie = auth_cookie(page)
    assert cookie["expires"] == -1, f"without remember me the cookie must not persist: {cookie}"
