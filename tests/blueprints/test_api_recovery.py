"""Password reset and email confirmation through the JSON API, with a real SMTP server (SPEC §7)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from notes_service.data.models import LinkToken
from tests.helpers import PASSWORD, api_token, bearer
from tests.mailbox import link_in, outbox_drained

NEW_PASSWORD = "a brand new passphrase"
INVALID = {"error": "Invalid or expired token"}


@pytest.fixture
def settings(mail_settings):
    return mail_settings


def token_of(message) -> str:
    return link_in(message).split("token=", 1)[1]


async def test_forgot_is_202_with_an_empty_object_whoever_asks(client, factory, mailbox, store) -> None:
    await factory.user("alice")
    answers = []
    for email in ("alice@example.com", "nobody@example.com", "not even an email"):
        response = await client.post("/api/password/forgot", json={"email": email})
        headers = sorted((key, value) for key, value in response.headers.items() if key.lower() != "date")
        answers.append((response.status_code, await response.get_data(), headers))
    assert answers[0][:2] == (202, b"{}")
    assert answers[0] == answers[1] == answers[2]
    await mailbox.arrive(subject="Reset your password", to="alice@example.com")
    assert await store.scalar(select(func.count(LinkToken.id))) == 1


async def test_reset_through_the_api(client, factory, mailbox) -> None:
    await factory.user("alice")
    old_token = await api_token(client, "alice@example.com")
    await client.post("/api/password/forgot", json={"email": "Alice@Example.com "})
    (message,) = await mailbox.arrive(subject="Reset your password")
    token = token_of(message)

    short = await client.post("/api/password/reset", json={"token": token, "new_password": "short"})
    assert short.status_code == 422 and "new_password" in (await short.get_json())["details"]
    response = await client.post("/api/password/reset", json={"token": token, "new_password": NEW_PASSWORD})
    assert response.status_code == 204 and await response.get_data() == b""
    assert (await client.get("/api/me", headers=bearer(old_token))).status_code == 401
    me = await client.get(
        "/api/me", headers=bearer(await api_token(client, "alice@example.com", NEW_PASSWORD))
    )
    assert (await me.get_json())["email_verified"] is True
    await mailbox.arrive(subject="Your password was changed")

    again = await client.post(
        "/api/password/reset", json={"token": token, "new_password": "another password"}
    )
    assert (again.status_code, await again.get_json()) == (400, INVALID)
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = await client.post(
        "/api/password/reset", json={"token": tampered, "new_password": NEW_PASSWORD}
    )
    assert (response.status_code, await response.get_json()) == (400, INVALID)


async def test_api_registration_mails_a_confirmation_that_the_api_accepts_once(
    client, mailbox, store
) -> None:
    response = await client.post(
        "/api/users", json={"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    )
    assert response.status_code == 201 and (await response.get_json())["email_verified"] is False
    (message,) = await mailbox.arrive(subject="Confirm your email address", to="alice@example.com")
    token = token_of(message)
    assert (await client.post("/api/email/verify", json={"token": token})).status_code == 204
    me = await client.get("/api/me", headers=bearer(await api_token(client, "alice@example.com")))
    assert (await me.get_json())["email_verified"] is True
    again = await client.post("/api/email/verify", json={"token": token})
    assert (again.status_code, await again.get_json()) == (400, INVALID)
    # A confirmation token is no reset token.
    await client.post("/api/password/forgot", json={"email": "alice@example.com"})
    await mailbox.arrive(subject="Reset your password")
    assert await outbox_drained(store)


async def test_a_reset_token_does_not_confirm_and_a_confirm_token_does_not_reset(client, mailbox) -> None:
    await client.post(
        "/api/users", json={"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    )
    (confirm,) = await mailbox.arrive(subject="Confirm your email address")
    response = await client.post(
        "/api/password/reset", json={"token": token_of(confirm), "new_password": NEW_PASSWORD}
    )
    assert (response.status_code, await response.get_json()) == (400, INVALID)
    await client.post("/api/password/forgot", json={"email": "alice@example.com"})
    (reset,) = await mailbox.arrive(subject="Reset your password")
    response = await client.post("/api/email/verify", json={"token": token_of(reset)})
    assert (response.status_code, await response.get_json()) == (400, INVALID)
