"""No pending link outlives what it was issued against (SPEC §7, issue 20 item 2).

The story: an attacker who knows an account's password (they registered it with the victim's address,
or the password leaked) asks to change its email to their own and keeps the confirmation link. The
victim takes the account back — a reset from their inbox (form or API) or a change in settings — and
writes notes. The old link must then be void, or opening it hands the account's address, then a reset,
then the notes to the attacker. And a confirmed email change voids every other pending link.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from notes_service.data.models import LinkToken, User
from notes_service.services import link_tokens
from tests.blueprints.test_recovery import (
    CONFIRM_INVALID,
    NEW_PASSWORD,
    RESET_INVALID,
    local,
    request_reset,
    reset_link,
    set_password,
)
from tests.helpers import PASSWORD, api_token, bearer, login, post_form
from tests.mailbox import Mailbox, link_in, outbox_drained

VICTIM = "victim@example.com"
ATTACKER = "mallory@evil.example.com"
CONFIRM = "Confirm your email address"
INVALID_TOKEN = {"error": "Invalid or expired token"}
SECRET_NOTE = "the secret diary of the victim"


@pytest.fixture
def settings(mail_settings):
    return mail_settings


def token_of(link: str) -> str:
    return link.split("token=", 1)[1]


async def ask_for_email_change(client, mailbox: Mailbox, email: str, password: str = PASSWORD) -> str:
    """POST /settings/email as the signed-in `client`; the path and query of the link mailed to `email`."""
    before = len(mailbox.received(subject=CONFIRM, to=email))
    form = {"email": email, "current_password": password}
    response = await post_form(client, "/settings/email", form, form_page="/settings")
    assert response.status_code == 302, await response.get_data(as_text=True)
    messages = await mailbox.arrive(before + 1, subject=CONFIRM, to=email)
    return local(link_in(messages[-1]))


async def open_link(app, link: str, via: str) -> tuple[int, Any]:
    """Open a confirmation link as its reader would: the emailed URL, or its token through the API."""
    client = app.test_client()
    if via == "browser":
        response = await client.get(link)
        return response.status_code, await response.get_data(as_text=True)
    response = await client.post("/api/email/verify", json={"token": token_of(link)})
    return response.status_code, await response.get_json()


async def victim_takes_the_account_back(app, mailbox: Mailbox, how: str) -> None:
    """The victim sets a password of their own (by `how`) and writes a note with it."""
    victim = app.test_client()
    if how == "reset form":
        link = await reset_link(victim, mailbox, VICTIM)
        assert (await set_password(victim, link)).status_code == 302
    elif how == "reset api":
        await victim.post("/api/password/forgot", json={"email": VICTIM})
        (message,) = await mailbox.arrive(subject="Reset your password", to=VICTIM)
        reset = {"token": token_of(link_in(message)), "new_password": NEW_PASSWORD}
        assert (await victim.post("/api/password/reset", json=reset)).status_code == 204
    else:  # settings: the victim still knows the password
        await login(victim, VICTIM)
        form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
        response = await post_form(victim, "/settings/password", form, form_page="/settings")
        assert response.status_code == 302
    await mailbox.arrive(subject="Your password was changed", to=VICTIM)
    if how == "reset api":
        token = await api_token(victim, VICTIM, NEW_PASSWORD)
        note = {"title": "Diary", "content": SECRET_NOTE}
        assert (await victim.post("/api/notes", json=note, headers=bearer(token))).status_code == 201
    else:
        if how == "reset form":
            await login(victim, VICTIM, NEW_PASSWORD)  # settings: this session was kept
        response = await post_form(victim, "/notes/new", {"title": "Diary", "content": SECRET_NOTE})
        assert response.status_code == 302


async def assert_the_attacker_is_out(app, attacker, mailbox: Mailbox, store) -> None:
    """The account keeps the victim's address and password; the attacker gets no way to the notes."""
    assert await store.scalar(select(User.email)) == VICTIM
    assert (await attacker.get("/notes")).status_code == 302  # the attacker's session ended
    for email in (ATTACKER, VICTIM):
        assert (await login(app.test_client(), email, PASSWORD)).status_code == 200
        token = await app.test_client().post("/api/token", json={"email": email, "password": PASSWORD})
        assert token.status_code == 401
    # A reset asked for the attacker's address mails nothing: no account has it.
    await request_reset(app.test_client(), ATTACKER)
    assert await outbox_drained(store)
    assert mailbox.received(to=ATTACKER) == mailbox.received(subject=CONFIRM, to=ATTACKER)
    assert mailbox.received(subject="Your email address was changed") == []
    # The victim still signs in with their address and reads their note.
    victim = app.test_client()
    await login(victim, VICTIM, NEW_PASSWORD)
    assert await store.scalar(select(func.count(User.id))) == 1
    assert SECRET_NOTE in await (await victim.get("/notes")).get_data(as_text=True)


@pytest.mark.parametrize("opened_via", ["browser", "api"])
@pytest.mark.parametrize("how", ["reset form", "reset api", "settings"])
async def test_a_change_link_kept_by_an_attacker_dies_when_the_victim_sets_a_password(
    app, factory, mailbox, store, how, opened_via
) -> None:
    attacker = app.test_client()
    if how == "settings":  # the victim's own account, whose password the attacker learnt
        await factory.user("victim", email=VICTIM)
        assert (await login(attacker, VICTIM)).status_code == 302
    else:  # the attacker registers with the victim's address
        form = {"username": "mallory", "email": VICTIM, "password": PASSWORD, "confirm_password": PASSWORD}
        assert (await post_form(attacker, "/register", form)).status_code == 302
    kept = await ask_for_email_change(attacker, mailbox, ATTACKER)

    await victim_takes_the_account_back(app, mailbox, how)

    status, body = await open_link(app, kept, opened_via)
    if opened_via == "browser":
        assert status == 400 and CONFIRM_INVALID in body
    else:
        assert (status, body) == (400, INVALID_TOKEN)
    await assert_the_attacker_is_out(app, attacker, mailbox, store)


@pytest.mark.parametrize("opened_via", ["browser", "api"])
async def test_a_confirmed_email_change_voids_every_other_pending_link(
    app, client, factory, mailbox, store, opened_via
) -> None:
    alice = await factory.user("alice")
    reset = await reset_link(app.test_client(), mailbox, "alice@example.com")
    await login(client, "alice@example.com")
    assert (await post_form(client, "/settings/email/verify", {}, form_page="/settings")).status_code == 302
    (message,) = await mailbox.arrive(subject=CONFIRM, to="alice@example.com")
    confirm = local(link_in(message))
    first = await ask_for_email_change(client, mailbox, "alice@one.example.com")
    second = await ask_for_email_change(client, mailbox, "alice@two.example.com")
    assert await store.scalar(select(func.count(LinkToken.id))) == 4

    assert (await open_link(app, first, opened_via))[0] in (302, 204)
    assert await store.scalar(select(User.email)) == "alice@one.example.com"
    # Every other link of the account is gone, not merely refused.
    assert await store.scalar(select(func.count(LinkToken.id)).where(LinkToken.user_id == alice.id)) == 0

    assert (await open_link(app, second, opened_via))[0] == 400
    assert (await open_link(app, confirm, opened_via))[0] == 400
    assert await store.scalar(select(User.email)) == "alice@one.example.com"
    if opened_via == "browser":
        page = await app.test_client().get(reset)
        assert page.status_code == 400 and RESET_INVALID in await page.get_data(as_text=True)
        assert (await set_password(app.test_client(), reset)).status_code == 400
    else:
        again = {"token": token_of(reset), "new_password": NEW_PASSWORD}
        response = await app.test_client().post("/api/password/reset", json=again)
        assert (response.status_code, await response.get_json()) == (400, INVALID_TOKEN)
    assert (await login(app.test_client(), "alice@one.example.com", NEW_PASSWORD)).status_code == 200
    assert (await login(app.test_client(), "alice@one.example.com", PASSWORD)).status_code == 302


async def test_a_change_asked_for_with_the_old_password_during_a_reset_mails_no_link(
    app, client, factory, mailbox, store, monkeypatch
) -> None:
    """The change request checked the old password (bcrypt, before its write block); the victim's
    reset commits meanwhile: the request must issue no link, or it would outlive the reset."""
    await factory.user("victim", email=VICTIM)
    await login(client, VICTIM)
    hasher = app.extensions["hasher"]
    checked, reset_done = asyncio.Event(), asyncio.Event()
    verify = hasher.verify

    async def verify_then_wait(password: str, password_hash: str | None) -> Any:
        result = await verify(password, password_hash)
        checked.set()
        await reset_done.wait()
        return result

    monkeypatch.setattr(hasher, "verify", verify_then_wait)
    form = {"email": ATTACKER, "current_password": PASSWORD}
    request = asyncio.create_task(post_form(client, "/settings/email", form, form_page="/settings"))
    await asyncio.wait_for(checked.wait(), 5)
    monkeypatch.setattr(hasher, "verify", verify)
    victim = app.test_client()
    assert (await set_password(victim, await reset_link(victim, mailbox, VICTIM))).status_code == 302
    reset_done.set()
    response = await asyncio.wait_for(request, 5)

    assert response.status_code == 422
    assert "Current password is incorrect." in await response.get_data(as_text=True)
    purposes = await store.rows(select(LinkToken.purpose))
    assert link_tokens.CHANGE not in [row.purpose for row in purposes]
    assert await outbox_drained(store)
    assert mailbox.received(to=ATTACKER) == []


async def test_a_reset_and_a_change_confirmation_at_once_do_not_deadlock(
    app, client, factory, mailbox, store, monkeypatch
) -> None:
    """The reset has used its link when the change link is opened. Both lock the account's row
    before any link's, so the confirmation waits for the reset, finds its link voided, and
    neither request fails (on PostgreSQL, locking links first deadlocked the two)."""
    await factory.user("victim", email=VICTIM)
    await login(client, VICTIM)
    kept = await ask_for_email_change(client, mailbox, ATTACKER)
    await app.test_client().post("/api/password/forgot", json={"email": VICTIM})
    (message,) = await mailbox.arrive(subject="Reset your password", to=VICTIM)

    used, go_on = asyncio.Event(), asyncio.Event()
    use_link = link_tokens.use_link

    async def use_then_wait(store: Any, *, secret: str, purpose: str) -> Any:
        found = await use_link(store, secret=secret, purpose=purpose)
        if purpose == link_tokens.RESET:
            used.set()
            await go_on.wait()
        return found

    monkeypatch.setattr(link_tokens, "use_link", use_then_wait)
    reset = {"token": token_of(link_in(message)), "new_password": NEW_PASSWORD}
    resetting = asyncio.create_task(app.test_client().post("/api/password/reset", json=reset))
    await asyncio.wait_for(used.wait(), 5)
    confirming = asyncio.create_task(
        app.test_client().post("/api/email/verify", json={"token": token_of(kept)})
    )
    await asyncio.sleep(0.3)  # the confirmation runs as far as it can
    go_on.set()
    reset_response, confirm_response = await asyncio.wait_for(asyncio.gather(resetting, confirming), 10)

    assert reset_response.status_code == 204
    assert (confirm_response.status_code, await confirm_response.get_json()) == (400, INVALID_TOKEN)
    assert await store.scalar(select(User.email)) == VICTIM
    assert await store.scalar(select(func.count(LinkToken.id))) == 0
