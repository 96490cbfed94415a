"""Forgot password in Chromium: ask for a link, open it from the delivered mail, set a new password,
sign in with it (SPEC §7), against `notes-service serve` and a real SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.support import TIMEOUT_MS
from tests.browser.test_browser_flow import flash, path_is, register, submit
from tests.mailbox import Mailbox, link_in
from tests.server import Server

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[str, Mailbox]]:
    mailbox = Mailbox().up()
    server = Server(tmp_path, NOTES_SMTP_URL=mailbox.url, NOTES_MAIL_POLL_SECONDS="0.1")
    server.env["NOTES_PUBLIC_URL"] = server.url  # links lead back to this server
    try:
        with server.start():
            yield server.url, mailbox
    finally:
        mailbox.down()


def test_forgot_password_from_the_emailed_link_to_signing_in(browser: Any, sync_api: Any, served) -> None:
    url, mailbox = served
    expect = sync_api.expect
    context = browser.new_context(base_url=url)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        register(page, expect, url, "alice", "alice@example.com")
        page.locator("header nav").get_by_role("button", name="Logout").click()
        page.wait_for_url(path_is(url, "/login"))

        page.get_by_role("link", name="Forgot your password?").click()
        page.wait_for_url(path_is(url, "/password/forgot"))
        submit(page, {"input[name=email]": "alice@example.com"}, "form button[type=submit]")
        page.wait_for_url(path_is(url, "/login"))
        flash(page, expect, "info", "If an account exists for that email, we have sent a link")

        (message,) = mailbox.wait_for(subject="Reset your password", within=15)
        page.goto(link_in(message))
        fields = {"input[name=new_password]": NEW_PASSWORD, "input[name=confirm_password]": NEW_PASSWORD}
        submit(page, fields, "form button[type=submit]")
        page.wait_for_url(path_is(url, "/login"))
        flash(page, expect, "success", "Your password has been reset. You can now log in.")

        submit(
            page,
            {"input[name=email]": "alice@example.com", "input[name=password]": NEW_PASSWORD},
            "form button[type=submit]:has-text('Log in')",
        )
        page.wait_for_url(path_is(url, "/"))
        expect(page.locator("header nav .welcome")).to_have_text("Welcome, alice")

        page.goto(link_in(message))  # used: refused, with a way to ask again
        expect(page.locator("p.flash-danger")).to_have_text(
            "This password reset link is invalid or has expired."
        )
    finally:
        context.close()
