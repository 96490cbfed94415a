"""Changing the account's email (SPEC §7): confirmed from the new address, a notice to the old one."""

from __future__ import annotations

import pytest

from tests.blueprints.test_recovery import local
from tests.helpers import PASSWORD, login, post_form
from tests.mailbox import link_in

SENT = "We have sent a confirmation link to {email}. Your email address changes when you open it."


@pytest.fixture
def settings(mail_settings):
    return mail_settings


async def change(client, email: str, password: str = PASSWORD):
    form = {"email": email, "current_password": password}
    return await post_form(client, "/settings/email", form, form_page="/settings")


async def test_the_email_changes_when_the_link_from_the_new_address_is_opened(app, client, factory, mailbox):
    await factory.user("alice")
    await login(client, "alice@example.com")
    response = await change(client, "Alice@New.example.com")
    assert response.status_code == 302
    assert SENT.format(email="alice@new.example.com") in await (await client.get("/settings")).get_data(
        as_text=True
    )
    (message,) = await mailbox.arrive(subject="Confirm your email address", to="alice@new.example.com")
    assert (await login(app.test_client(), "alice@example.com")).status_code == 302  # not changed yet

    assert (await app.test_client().get(local(link_in(message)))).status_code == 302
    (notice,) = await mailbox.arrive(subject="Your email address was changed", to="alice@example.com")
    assert "alice@new.example.com" in notice.get_body().get_content()
    assert (await login(app.test_client(), "alice@new.example.com")).status_code == 302
    assert (await login(app.test_client(), "alice@example.com")).status_code == 200
    page = await (await client.get("/settings")).get_data(as_text=True)
    assert "alice@new.example.com" in page and "not confirmed" not in page
    assert (await app.test_client().get(local(link_in(message)))).status_code == 400  # once


async def test_a_taken_email_or_a_wrong_password_changes_nothing(client, factory, mailbox) -> None:
    await factory.user("alice")
    await factory.user("bob")
    await login(client, "alice@example.com")
    taken = await change(client, "bob@example.com")
    assert taken.status_code == 422 and "Email already registered." in await taken.get_data(as_text=True)
    wrong = await change(client, "alice@new.example.com", "wrong password")
    assert wrong.status_code == 422 and "Current password is incorrect." in await wrong.get_data(as_text=True)
    assert mailbox.received() == []


async def test_an_old_confirmation_link_never_brings_the_old_address_back(app, client, mailbox) -> None:
    form = {
        "username": "alice",
        "email": "alice@example.com",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
    }
    await post_form(client, "/register", form)
    (first,) = await mailbox.arrive(subject="Confirm your email address", to="alice@example.com")
    await change(client, "alice@new.example.com")
    (second,) = await mailbox.arrive(subject="Confirm your email address", to="alice@new.example.com")
    assert (await client.get(local(link_in(second)))).status_code == 302
    assert (await client.get(local(link_in(first)))).status_code == 400
    assert (await login(app.test_client(), "alice@new.example.com")).status_code == 302


async def test_a_change_link_to_an_address_taken_since_is_refused(app, client, factory, mailbox) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    await change(client, "shared@example.com")
    (message,) = await mailbox.arrive(subject="Confirm your email address")
    await factory.user("carol", email="shared@example.com")
    assert (await client.get(local(link_in(message)))).status_code == 400
    assert (await login(app.test_client(), "alice@example.com")).status_code == 302
