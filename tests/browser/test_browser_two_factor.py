"""Two-factor sign-in in a real browser (Chromium) against `notes-service serve`: enrol by reading the
secret off the page, log out, log in with password and code, turn it off with a recovery code.

The page may load nothing from another host and break no rule of its CSP (the QR code is inline SVG).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pyotp
import pytest

from tests.browser.support import offline_context
from tests.browser.test_browser_flow import (
    LOGGED_IN,
    PASSWORD,
    fill_login,
    flash,
    logout_via_nav,
    path_is,
    register,
)
from tests.server import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with Server(tmp_path_factory.mktemp("two-factor-server"), NOTES_ENV="development").start() as server:
        yield server.url


def test_enrol_sign_in_with_a_code_and_turn_off(browser: Any, server: str, sync_api: Any) -> None:
    expect = sync_api.expect
    context, elsewhere = offline_context(browser, server)
    try:
        page = context.new_page()
        register(page, expect, server, "tess", "tess@example.com")

        # Settings links to the enrolment page: a QR code drawn inline, the secret as text.
        page.goto("/settings")
        page.locator("#two-factor a").click()
        page.wait_for_url(path_is(server, "/settings/2fa"))
        expect(page.locator(".qr svg")).to_be_visible()
        secret = page.locator("#totp-secret").inner_text().strip()
        expect(page.locator("#totp-uri")).to_contain_text(f"secret={secret}")
        app = pyotp.TOTP(secret)  # the authenticator app
        page.fill("#enrol input[name=code]", app.now())
        page.fill("#enrol input[name=current_password]", PASSWORD)
        page.click("#enrol button[type=submit]")
        flash(page, expect, "success", "Two-factor sign-in is on.")
        codes = page.locator("#recovery-codes li code").all_inner_texts()
        assert len(codes) == 10
        assert page.evaluate("window.cspViolations") == []

        # Log out, then in: the password leads to the code step, the code to the account.
        logout_via_nav(page, expect, server)
        fill_login(page, "tess@example.com", PASSWORD, remember=False)
        page.wait_for_url(path_is(server, "/login/2fa"))
        expect(page.locator("header nav .welcome")).to_have_count(0)
        page.fill("input[name=code]", "000000")
        page.click("main form button[type=submit]")
        flash(page, expect, "danger", "Invalid code.")
        # The step after the one used to enrol (the window accepts now ± 1 step, each step once).
        page.fill("input[name=code]", app.at(time.time() + 30))
        page.click("main form button[type=submit]")
        page.wait_for_url(path_is(server, "/"))
        flash(page, expect, "success", LOGGED_IN)
        expect(page.locator("header nav .welcome")).to_have_text("Welcome, tess")

        # Turn it off with the password and a recovery code.
        page.goto("/settings/2fa")
        page.fill("#disable input[name=current_password]", PASSWORD)
        page.fill("#disable input[name=code]", codes[0])
        page.click("#disable button[type=submit]")
        page.wait_for_url(path_is(server, "/settings/2fa"))
        flash(page, expect, "info", "Two-factor sign-in is off.")
        expect(page.locator("#enrol .qr svg")).to_be_visible()  # a new enrolment is offered
        assert page.evaluate("window.cspViolations") == []
        assert elsewhere == []
    finally:
        context.close()
