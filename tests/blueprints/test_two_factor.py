"""Two-factor sign-in in the browser (SPEC §8): enrolment, the code step, replay and brute force."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from notes_service.data import utcnow
from notes_service.data.models import ApiToken, AuthSession, PendingSignIn, RecoveryCode, User
from notes_service.services import two_factor, users
from tests.helpers import PASSWORD, api_token, bearer, login, post_form
from tests.two_factor import SECRET_ON_PAGE, Clock, code_step, csrf_of, enrol, flashes, password_step


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


async def signed_in(client) -> bool:
    return (await client.get("/dashboard")).status_code == 200


async def test_enrolment_page_offers_a_fresh_secret_uri_and_inline_qr(client, factory) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    response = await client.get("/settings/2fa")
    page = await response.get_data(as_text=True)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page).group(1)  # type: ignore[union-attr]
    assert len(secret) == 32  # 160 bits of base32
    uri = f"otpauth://totp/notes-service:alice@example.com?secret={secret}&amp;issuer=notes-service"
    assert uri in page
    assert re.search(r"<svg[^>]*>.*<path", page, re.S)  # the QR code, drawn here
    assert "<img" not in page and "http" not in page.split("<main>")[1].replace(uri, "")
    assert " style=" not in page and "<script>" not in page  # nothing the CSP would block
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    again = await (await client.get("/settings/2fa")).get_data(as_text=True)
    assert secret not in again  # fresh each time
    assert 'name="code"' in page
    assert "/settings/2fa" in await (await client.get("/settings")).get_data(as_text=True)


async def test_wrong_code_turns_nothing_on(client, factory, store, clock) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    page = await (await client.get("/settings/2fa")).get_data(as_text=True)
    form = {"code": "000000", "current_password": PASSWORD, "csrf_token": csrf_of(page)}
    response = await client.post("/settings/2fa", form=form)
    body = await response.get_data(as_text=True)
    assert "Invalid code." in body and "flash-danger" in body
    assert await store.scalar(select(User.totp_secret)) is None


async def test_enrolment_needs_the_current_password(app, client, factory, store, clock) -> None:
    """SPEC §8: a stolen session alone cannot turn it on (and so end the owner's other sessions and
    lock them out past a reset)."""
    await factory.user("alice")
    owner = app.test_client()
    await login(owner, "alice@example.com")
    await login(client, "alice@example.com")  # the thief's copy of a session
    page = await (await client.get("/settings/2fa")).get_data(as_text=True)
    secret = SECRET_ON_PAGE.search(page).group(1)  # type: ignore[union-attr]
    right_code = {"code": clock.code(secret), "csrf_token": csrf_of(page)}
    response = await client.post("/settings/2fa", form={**right_code, "current_password": "a guess, wrong"})
    body = html.unescape(await response.get_data(as_text=True))
    assert response.status_code == 200 and "Invalid password." in body and "flash-danger" in body
    assert secret in body and 'name="current_password"' in body  # the same enrolment, offered again
    assert await store.scalar(select(User.totp_secret)) is None
    assert await store.scalar(select(User.security_stamp)) == 0
    assert await signed_in(owner)
    missing = await client.post("/settings/2fa", form=right_code)
    assert missing.status_code == 422 and await store.scalar(select(User.totp_secret)) is None
    response = await client.post("/settings/2fa", form={**right_code, "current_password": PASSWORD})
    assert "Two-factor sign-in is on." in await response.get_data(as_text=True)
    assert not await signed_in(owner)


async def test_enrolment_form_asks_for_the_password(client, factory) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    page = await (await client.get("/settings/2fa")).get_data(as_text=True)
    enrol_form = page.split('id="enrol"')[1].split("</form>")[0]
    assert 'name="current_password"' in enrol_form and 'type="password"' in enrol_form
    assert 'name="code"' in enrol_form


async def test_turning_it_on_or_off_revokes_every_api_token(app, client, factory, store, clock) -> None:
    """The choice SPEC §8 leaves open (docs/two-factor.md): tokens issued before enrolment were
    issued to whoever had the password alone, so they end with the other sessions."""
    await factory.user("alice")
    before = await api_token(app.test_client(), "alice@example.com")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    assert (await client.get("/api/me", headers=bearer(before))).status_code == 401
    assert await store.scalar(select(func.count(ApiToken.id))) == 0  # and gone from the list
    credentials = {"email": "alice@example.com", "password": PASSWORD, "otp": clock.code(enrolled.secret)}
    after = (await (await client.post("/api/token", json=credentials)).get_json())["token"]
    assert (await client.get("/api/me", headers=bearer(after))).status_code == 200
    clock.step()
    data = {"current_password": PASSWORD, "code": clock.code(enrolled.secret)}
    response = await post_form(client, "/settings/2fa/disable", data, form_page="/settings/2fa")
    assert response.status_code == 302
    assert (await client.get("/api/me", headers=bearer(after))).status_code == 401
    assert await signed_in(client)  # the browser that turned it off stays signed in


async def test_enrolling_ends_other_sessions_and_shows_the_status(client, app, factory, store, clock) -> None:
    await factory.user("alice")
    other = app.test_client()
    await login(other, "alice@example.com")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    assert enrolled.secret not in enrolled.page  # the page after it shows codes, not the secret
    assert await signed_in(client) and not await signed_in(other)
    assert await store.scalar(select(User.two_factor)) is True
    page = await (await client.get("/settings/2fa")).get_data(as_text=True)
    assert "is <strong>on</strong>" in page and "Unused recovery codes: 10" in page
    assert not any(code in page for code in enrolled.recovery_codes)  # shown once
    credentials = {"email": "alice@example.com", "password": PASSWORD, "otp": clock.code(enrolled.secret)}
    token = (await (await client.post("/api/token", json=credentials)).get_json())["token"]
    assert (await (await client.get("/api/me", headers=bearer(token))).get_json())["two_factor"] is True


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
async def test_codes_of_the_current_step_and_one_either_side(
    client, factory, clock, offset, accepted
) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    await post_form(client, "/logout", {}, form_page="/logout")
    clock.step(10)
    await password_step(client, "alice@example.com")
    assert not await signed_in(client)  # the password alone opens nothing
    response = await code_step(client, clock.code(enrolled.secret, offset))
    if accepted:
        assert response.status_code == 302 and response.headers["Location"] == "/"
        assert "Logged in successfully." in await flashes(client)
        assert await signed_in(client)
    else:
        assert response.status_code == 200 and "Invalid code." in await response.get_data(as_text=True)
        assert not await signed_in(client)


async def test_a_code_works_once(app, client, factory, clock) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    await post_form(client, "/logout", {}, form_page="/logout")
    clock.step(10)
    code = clock.code(enrolled.secret)
    await password_step(client, "alice@example.com")
    assert (await code_step(client, code)).status_code == 302
    # A shoulder-surfer with the same code, in the same step, in another browser.
    thief = app.test_client()
    await password_step(thief, "alice@example.com")
    response = await code_step(thief, code)
    assert response.status_code == 200 and "Invalid code." in await response.get_data(as_text=True)
    # The previous step's code is still in the window, but older than the one used: refused too.
    assert (await code_step(thief, clock.code(enrolled.secret, -1))).status_code == 200
    assert not await signed_in(thief)
    assert (await code_step(thief, clock.code(enrolled.secret, 1))).status_code == 302


async def test_a_recovery_code_works_once(app, client, factory, clock) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    code = enrolled.recovery_codes[3]
    first, second = app.test_client(), app.test_client()
    await password_step(first, "alice@example.com")
    assert (await code_step(first, code.upper().replace("-", " "))).status_code == 302  # as typed
    await password_step(second, "alice@example.com")
    response = await code_step(second, code)
    assert response.status_code == 200 and not await signed_in(second)
    assert (await code_step(second, enrolled.recovery_codes[4])).status_code == 302


async def test_the_pending_sign_in_is_no_session(app, client, factory, store, clock) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    browser = app.test_client()
    await password_step(browser, "alice@example.com")
    assert await store.scalar(select(PendingSignIn.id)) is not None
    response = await browser.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert (await browser.get("/settings")).status_code == 302
    assert "notes_auth" not in {cookie.name for cookie in browser.cookie_jar}
    assert len(await store.rows(select(AuthSession.id))) == 1  # the enrolling browser's alone
    # Another browser, without this one's cookie, has nothing to finish.
    stranger = app.test_client()
    response = await stranger.get("/login/2fa")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert (await code_step(stranger, clock.code(enrolled.secret))).status_code == 302
    assert not await signed_in(stranger)


async def test_the_fifth_wrong_code_ends_the_pending_sign_in(client, factory, store, clock) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    await post_form(client, "/logout", {}, form_page="/logout")
    await password_step(client, "alice@example.com")
    for attempt in range(1, 6):
        response = await code_step(client, "123456" if attempt % 2 else "aaaa-bbbb-cccc-dddd")
        if attempt < 5:
            assert response.status_code == 200, attempt
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert "Invalid code." in await flashes(client, "/login")
    assert await store.scalar(select(PendingSignIn.id)) is None
    # The 6th try, even with the right code, finds nothing to finish.
    response = await code_step(client, clock.code(enrolled.secret))
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not await signed_in(client)


async def test_a_pending_sign_in_lasts_five_minutes(client, factory, store, clock) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    await post_form(client, "/logout", {}, form_page="/logout")
    await password_step(client, "alice@example.com")
    expires = await store.scalar(select(PendingSignIn.expires_at))
    assert timedelta(minutes=4) < expires - utcnow() <= timedelta(minutes=5)
    async with store.write():
        await store.execute(update(PendingSignIn).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = await code_step(client, clock.code(enrolled.secret))
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not await signed_in(client)
    async with store.write():
        assert await two_factor.delete_expired_pending(store) == 1


async def test_remember_and_next_are_carried_to_the_code_step(client, factory, clock) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    await post_form(client, "/logout", {}, form_page="/logout")
    await password_step(client, "alice@example.com", remember="y", next="/notes?page=2")
    response = await code_step(client, clock.code(enrolled.secret))
    assert response.status_code == 302 and response.headers["Location"] == "/notes?page=2"
    [auth_cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("notes_auth=")]
    assert "expires=" in auth_cookie.lower()  # "remember me": a persistent cookie


async def test_a_password_change_voids_a_pending_sign_in(app, client, factory, clock) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    browser = app.test_client()
    await password_step(browser, "alice@example.com")
    await post_form(
        client,
        "/settings/password",
        {
            "current_password": PASSWORD,
            "new_password": "another long one",
            "confirm_password": "another long one",
        },
        form_page="/settings",
    )
    assert (await code_step(browser, clock.code(enrolled.secret))).status_code == 302
    assert not await signed_in(browser)


async def test_a_deactivation_voids_a_pending_sign_in_even_once_undone(
    app, client, factory, store, clock
) -> None:
    """The pending sign-in carries the security stamp of its password step (SPEC §6)."""
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    browser = app.test_client()
    await password_step(browser, "alice@example.com")
    for active in (False, True):  # notes-service deactivate-user, then reactivate-user
        async with store.write():
            await users.set_active(store, email="alice@example.com", active=active)
    response = await code_step(browser, clock.code(enrolled.secret))
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert not await signed_in(browser)


async def test_disable_needs_the_password_and_a_code(app, client, factory, store, clock) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    other = app.test_client()
    await password_step(other, "alice@example.com")
    await code_step(other, enrolled.recovery_codes[0])
    assert await signed_in(other)

    async def disable(password: str, code: str) -> str:
        data = {"current_password": password, "code": code}
        response = await post_form(client, "/settings/2fa/disable", data, form_page="/settings/2fa")
        return (
            await flashes(client, "/settings/2fa")
            if response.status_code == 302
            else await response.get_data(as_text=True)
        )

    assert "Current password is incorrect." in await disable("wrong password", clock.code(enrolled.secret))
    assert "Invalid code." in await disable(PASSWORD, "000000")
    assert await store.scalar(select(User.two_factor)) is True
    assert "Two-factor sign-in is off." in await disable(PASSWORD, clock.code(enrolled.secret))
    assert await store.scalar(select(User.totp_secret)) is None
    assert await signed_in(client) and not await signed_in(other)
    response = await login(app.test_client(), "alice@example.com")
    assert response.headers["Location"] == "/"  # the password alone again


async def test_new_recovery_codes_void_the_old_ones(app, client, factory, clock) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    response = await post_form(
        client,
        "/settings/2fa/recovery-codes",
        {"code": clock.code(enrolled.secret)},
        form_page="/settings/2fa",
    )
    page = await response.get_data(as_text=True)
    new_codes = re.findall(r"<li><code>([a-z2-7-]{19})</code></li>", page)
    assert len(new_codes) == 10 and not set(new_codes) & set(enrolled.recovery_codes)
    browser = app.test_client()
    await password_step(browser, "alice@example.com")
    assert (await code_step(browser, enrolled.recovery_codes[0])).status_code == 200
    assert (await code_step(browser, new_codes[0])).status_code == 302


async def test_the_database_holds_no_secret_or_recovery_code_in_the_clear(
    client, factory, store, clock
) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    enrolled = await enrol(client, clock)
    await post_form(client, "/logout", {}, form_page="/logout")
    await password_step(client, "alice@example.com")  # a pending sign-in too
    dump = []
    for table in (User, PendingSignIn, AuthSession, RecoveryCode):
        dump.extend(str(value) for row in await store.rows(select(table.__table__)) for value in row)
    text = " ".join(dump).lower()
    assert enrolled.secret.lower() not in text
    for code in enrolled.recovery_codes:
        assert code not in text and code.replace("-", "") not in text
