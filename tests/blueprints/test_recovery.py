"""Password reset and email confirmation in the browser, with a real SMTP server (SPEC §7)."""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from notes_service.data import utcnow
from notes_service.data.models import ApiToken, AuthSession, LinkToken, User
from tests.helpers import PASSWORD, api_token, bearer, csrf_token, login, post_form
from tests.mailbox import Mailbox, body_of, link_in, outbox_drained

NEW_PASSWORD = "a brand new passphrase"
RESET_SENT = "If an account exists for that email, we have sent a link to reset the password."
RESET_INVALID = "This password reset link is invalid or has expired."
CONFIRM_INVALID = "This confirmation link is invalid or has expired."


@pytest.fixture
def settings(mail_settings):  # every test here mails to the `mailbox` fixture
    return mail_settings


def local(url: str) -> str:
    """The path and query of an emailed link (the test client talks to the app directly)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "https://notes.example.com"
    return f"{parts.path}?{parts.query}"


async def request_reset(client, email: str):
    return await post_form(client, "/password/forgot", {"email": email})


async def reset_link(client, mailbox: Mailbox, email: str) -> str:
    before = len(mailbox.received(subject="Reset your password", to=email))
    await request_reset(client, email)
    messages = await mailbox.arrive(before + 1, subject="Reset your password", to=email)
    return local(link_in(messages[-1]))


async def set_password(client, link: str, password: str = NEW_PASSWORD):
    token = link.split("token=", 1)[1]
    return await post_form(
        client,
        "/password/reset",
        {"token": token, "new_password": password, "confirm_password": password},
        form_page="/password/forgot",  # any form of this browser: a used link has none
    )


async def test_login_page_links_to_forgot_password(client) -> None:
    page = await (await client.get("/login")).get_data(as_text=True)
    assert '<a href="/password/forgot">Forgot your password?</a>' in page


async def test_forgot_then_reset_from_the_emailed_link(app, client, factory, mailbox, store) -> None:
    alice = await factory.user("alice")
    signed_in = app.test_client()
    await login(signed_in, "alice@example.com")
    token = await api_token(app.test_client(), "alice@example.com")

    response = await request_reset(client, "alice@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert RESET_SENT in await (await client.get("/login")).get_data(as_text=True)
    (message,) = await mailbox.arrive(subject="Reset your password", to="alice@example.com")
    url = link_in(message)
    assert url.startswith("https://notes.example.com/password/reset?token=")
    assert f"\n{url}\n" in body_of(message)  # on a line of its own
    assert len(url.split("token=")[1]) >= 43  # 256 bits, base64url

    link = local(url)
    for _ in range(2):  # a GET never uses the link up
        page = await client.get(link)
        assert page.status_code == 200
        html = await page.get_data(as_text=True)
        assert 'name="token"' in html and 'type="hidden"' in html and 'name="new_password"' in html
        assert page.headers["Cache-Control"] == "no-store"

    response = await set_password(client, link)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Your password has been reset. You can now log in." in await (await client.get("/login")).get_data(
        as_text=True
    )
    assert (await login(app.test_client(), "alice@example.com", NEW_PASSWORD)).status_code == 302
    assert (await login(app.test_client(), "alice@example.com", PASSWORD)).status_code == 200

    # Every session and API token of the account ended; the address counts as confirmed.
    assert (await signed_in.get("/dashboard")).status_code == 302
    assert (await app.test_client().get("/api/me", headers=bearer(token))).status_code == 401
    assert await store.scalar(select(User.email_verified_at).where(User.id == alice.id)) is not None
    await mailbox.arrive(subject="Your password was changed", to="alice@example.com")

    # The link worked once.
    used = await client.get(link)
    assert used.status_code == 400
    html = await used.get_data(as_text=True)
    assert RESET_INVALID in html and 'href="/password/forgot"' in html
    assert (await set_password(client, link, "yet another password")).status_code == 400
    assert (await login(app.test_client(), "alice@example.com", "yet another password")).status_code == 200


async def test_a_reset_voids_every_other_reset_link(client, factory, mailbox) -> None:
    await factory.user("alice")
    first = await reset_link(client, mailbox, "alice@example.com")
    second = await reset_link(client, mailbox, "alice@example.com")
    assert first != second
    assert (await set_password(client, second)).status_code == 302
    assert (await client.get(first)).status_code == 400


async def test_a_password_change_in_settings_voids_reset_links_and_mails_a_notice(
    app, client, factory, mailbox
) -> None:
    await factory.user("alice")
    link = await reset_link(app.test_client(), mailbox, "alice@example.com")
    await login(client, "alice@example.com")
    response = await post_form(
        client,
        "/settings/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        form_page="/settings",
    )
    assert response.status_code == 302
    await mailbox.arrive(subject="Your password was changed", to="alice@example.com")
    assert (await app.test_client().get(link)).status_code == 400


async def test_expired_tampered_and_other_purpose_links_are_refused(client, factory, mailbox, store) -> None:
    await factory.user("alice")
    link = await reset_link(client, mailbox, "alice@example.com")
    tampered = link[:-1] + ("A" if link[-1] != "A" else "B")
    for bad in (tampered, "/password/reset?token=", "/password/reset", "/password/reset?token=" + "x" * 500):
        response = await client.get(bad)
        assert response.status_code == 400 and RESET_INVALID in await response.get_data(as_text=True)
    assert (await set_password(client, tampered)).status_code == 400

    # A confirmation link is no reset link, and the other way round.
    confirm = link.replace("/password/reset", "/email/verify")
    assert (await client.get(confirm)).status_code == 400
    assert (await client.get(link)).status_code == 200

    async with store.write():
        await store.execute(update(LinkToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (await client.get(link)).status_code == 400
    assert (await set_password(client, link)).status_code == 400


async def test_a_link_changes_only_its_own_account(app, client, factory, mailbox) -> None:
    await factory.user("alice")
    await factory.user("bob")
    link = await reset_link(client, mailbox, "alice@example.com")
    await login(app.test_client(), "bob@example.com")
    assert (await set_password(client, link)).status_code == 302
    assert (await login(app.test_client(), "bob@example.com", PASSWORD)).status_code == 302
    assert (await login(app.test_client(), "bob@example.com", NEW_PASSWORD)).status_code == 200


async def test_a_reset_form_breaking_the_rules_is_shown_again(client, factory, mailbox) -> None:
    await factory.user("alice")
    link = await reset_link(client, mailbox, "alice@example.com")
    token = link.split("token=", 1)[1]
    response = await post_form(
        client,
        "/password/reset",
        {"token": token, "new_password": "short", "confirm_password": "short"},
        form_page=link,
    )
    assert response.status_code == 422
    assert "Field must be between 8 and 1024 characters long." in await response.get_data(as_text=True)
    assert (await client.get(link)).status_code == 200  # not used up


async def test_unknown_and_known_emails_get_identical_answers(app, factory, mailbox, store) -> None:
    await factory.user("alice")
    answers = []
    for email in ("alice@example.com", "nobody@example.com"):
        client = app.test_client()
        response = await request_reset(client, email)
        headers = {key: value for key, value in response.headers.items() if key.lower() != "set-cookie"}
        cookies = sorted(value.split("=", 1)[0] for value in response.headers.getlist("Set-Cookie"))
        login_page = await (await client.get("/login")).get_data(as_text=True)
        flashes = login_page[login_page.index("<main>") : login_page.index("<section")]
        answers.append((response.status_code, headers, await response.get_data(), cookies, flashes))
    assert answers[0] == answers[1]
    await mailbox.arrive(subject="Reset your password")
    assert len(mailbox.received()) == 1
    assert await store.scalar(select(func.count(LinkToken.id))) == 1


async def test_no_reset_mail_for_a_deactivated_account(app, client, factory, mailbox, store) -> None:
    await factory.user("alice")
    async with store.write():
        await store.execute(update(User).values(is_active=False))
    await request_reset(client, "alice@example.com")
    assert await outbox_drained(store)  # the request was queued, then dropped by the sender
    assert mailbox.received() == []
    assert await store.scalar(select(func.count(LinkToken.id))) == 0


async def test_registration_mails_a_confirmation_link_that_confirms_once(app, client, mailbox, store) -> None:
    response = await post_form(
        client,
        "/register",
        {
            "username": "alice",
            "email": "Alice@Example.com",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
        },
    )
    assert response.status_code == 302
    settings_page = await (await client.get("/settings")).get_data(as_text=True)
    assert "alice@example.com" in settings_page and "not confirmed" in settings_page
    (message,) = await mailbox.arrive(subject="Confirm your email address", to="alice@example.com")
    url = link_in(message)
    assert url.startswith("https://notes.example.com/email/verify?token=")

    response = await client.get(local(url))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = await (await client.get("/settings")).get_data(as_text=True)
    assert "Your email address has been confirmed." in page
    assert "not confirmed" not in page and "confirmed" in page
    assert await store.scalar(select(User.email_verified_at)) is not None

    again = await client.get(local(url))
    assert again.status_code == 400 and CONFIRM_INVALID in await again.get_data(as_text=True)


async def test_settings_resends_a_confirmation_link(client, factory, mailbox) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    response = await post_form(client, "/settings/email/verify", {}, form_page="/settings")
    assert response.status_code == 302 and response.headers["Location"] == "/settings"
    page = await (await client.get("/settings")).get_data(as_text=True)
    assert "We have sent a confirmation link to alice@example.com." in page
    (message,) = await mailbox.arrive(subject="Confirm your email address")
    assert (await client.get(local(link_in(message)))).status_code == 302


async def test_no_link_token_in_any_log_line(app, client, factory, mailbox, caplog) -> None:
    caplog.set_level(logging.INFO)  # every logger, at the level the service logs (aiosqlite's
    await factory.user("alice")  # DEBUG lines print statement parameters; the service never shows them)
    link = await reset_link(client, mailbox, "alice@example.com")
    await client.get(link)
    await set_password(client, link)
    await client.get(link)
    await post_form(
        app.test_client(),
        "/register",
        {"username": "bob", "email": "bob@example.com", "password": PASSWORD, "confirm_password": PASSWORD},
    )
    (confirm,) = await mailbox.arrive(subject="Confirm your email address")
    await client.get(local(link_in(confirm)))
    secrets = [link.split("token=")[1], link_in(confirm).split("token=")[1]]
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "event=mail_sent" in text and "event=password_reset" in text
    for secret in secrets:
        assert secret not in text


async def test_forgot_is_throttled_per_address_and_per_email(settings, database_url) -> None:
    from notes_service import create_app

    app = create_app({**settings, "auth_rate_limit": "3/60", "trusted_proxy_hops": 1})
    async with app.test_app():
        client = app.test_client()
        token = await csrf_token(client, "/password/forgot")

        async def forgot(email: str, address: str) -> int:
            response = await client.post(
                "/password/forgot",
                form={"email": email, "csrf_token": token},
                headers={"X-Forwarded-For": address},
            )
            return response.status_code

        # One inbox, many addresses: the fourth message to it is refused.
        assert [await forgot("victim@example.com", f"203.0.113.{n}") for n in range(4)] == [
            302,
            302,
            302,
            429,
        ]
        # One address, many inboxes.
        assert [await forgot(f"u{n}@example.com", "198.51.100.1") for n in range(4)] == [302, 302, 302, 429]
        # The resend route spends the same per-email budget as the forgot routes.
        response = await client.post(
            "/api/password/forgot",
            json={"email": "victim@example.com"},
            headers={"X-Forwarded-For": "192.0.2.9"},
        )
        assert response.status_code == 429


async def test_token_and_session_rows_go_with_a_reset(app, client, factory, mailbox, store) -> None:
    await factory.user("alice")
    await login(app.test_client(), "alice@example.com")
    await api_token(app.test_client(), "alice@example.com")
    link = await reset_link(client, mailbox, "alice@example.com")
    await set_password(client, link)
    assert await store.scalar(select(func.count(AuthSession.id))) == 0
    assert await store.scalar(select(func.count(ApiToken.id))) == 0
    assert await store.scalar(select(func.count(LinkToken.id))) == 0
