"""Settings: password change, sessions that can be ended, API tokens (SPEC §2)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from notes_service.data.models import ApiToken, AuthSession, User
from tests.helpers import PASSWORD, api_token, bearer, login, post_form

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def signed_in_alice(client, factory):  # type: ignore[no-untyped-def]
    user = await factory.user("alice")
    await login(client, "alice@example.com")
    return user


async def count(store, model, **where) -> int:  # type: ignore[no-untyped-def]
    return await store.scalar(select(func.count()).select_from(model).filter_by(**where))  # type: ignore[no-any-return]


async def test_settings_page_lists_sessions_and_tokens(client, signed_in_alice) -> None:
    page = await (await client.get("/settings")).get_data(as_text=True)
    assert "Change password" in page and "Active sessions" in page and "API tokens" in page
    assert "This session" in page and "Log out other sessions" in page


async def test_logout_revokes_the_session_so_a_replayed_cookie_is_refused(
    app, client, signed_in_alice
) -> None:
    stolen = client.cookie_jar  # what an attacker copied while the user was logged in
    cookie = next(c for c in stolen if c.name == "notes_auth")
    replay = app.test_client()
    replay.set_cookie("localhost", "notes_auth", cookie.value)
    assert (await replay.get("/dashboard")).status_code == 200  # the copy works while logged in

    await post_form(client, "/logout", {}, form_page="/logout")
    assert (await client.get("/dashboard")).status_code == 302
    response = await replay.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


async def test_log_out_other_sessions_keeps_this_one(app, client, factory, signed_in_alice, store) -> None:
    other = app.test_client()
    await login(other, "alice@example.com")
    assert await count(store, AuthSession) == 2
    response = await post_form(client, "/settings/sessions/revoke-others", {}, form_page="/settings")
    assert response.status_code == 302
    assert await count(store, AuthSession) == 1
    assert (await client.get("/dashboard")).status_code == 200
    assert (await other.get("/dashboard")).status_code == 302


async def test_password_change_ends_other_sessions_and_all_tokens(
    app, client, signed_in_alice, store
) -> None:
    other = app.test_client()
    await login(other, "alice@example.com")
    token = await api_token(app.test_client(), "alice@example.com")
    response = await post_form(
        client,
        "/settings/password",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        form_page="/settings",
    )
    assert response.status_code == 302
    page = await (await client.get("/settings")).get_data(as_text=True)
    assert "Your password has been changed." in page
    assert (await client.get("/dashboard")).status_code == 200  # this session stays
    assert (await other.get("/dashboard")).status_code == 302  # the other one ended
    assert (await app.test_client().get("/api/me", headers=bearer(token))).status_code == 401
    assert await count(store, ApiToken) == 0
    fresh = app.test_client()
    assert (await login(fresh, "alice@example.com")).status_code == 200  # old password refused
    assert (await login(fresh, "alice@example.com", NEW_PASSWORD)).status_code == 302


async def test_password_change_needs_the_current_password(app, client, signed_in_alice) -> None:
    response = await post_form(
        client,
        "/settings/password",
        {"current_password": "wrong one!", "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
        form_page="/settings",
    )
    assert response.status_code == 422
    assert "Current password is incorrect." in await response.get_data(as_text=True)
    assert (await login(app.test_client(), "alice@example.com")).status_code == 302


async def test_create_token_shows_secret_once_and_stores_only_its_digest(
    app, client, signed_in_alice, store
) -> None:
    response = await post_form(
        client, "/settings/tokens", {"name": "laptop", "expires_in_days": "30"}, form_page="/settings"
    )
    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    secret = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)
    assert (await app.test_client().get("/api/me", headers=bearer(secret))).status_code == 200
    again = await (await client.get("/settings")).get_data(as_text=True)
    assert secret not in again and "laptop" in again
    token = await store.row(select(ApiToken))
    assert token.name == "laptop" and secret not in token.token_digest
    assert (token.expires_at - token.created_at).days == 30


async def test_revoke_token_and_someone_elses_is_404(app, client, factory, signed_in_alice, store) -> None:
    await factory.user("bob")
    bobs = await api_token(app.test_client(), "bob@example.com")
    mine = await api_token(app.test_client(), "alice@example.com")
    ids = {t.user_id: t.id for t in await store.rows(select(ApiToken))}
    bob_id = await (await app.test_client().get("/api/me", headers=bearer(bobs))).get_json()
    response = await post_form(
        client, f"/settings/tokens/{ids[bob_id['id']]}/revoke", {}, form_page="/settings"
    )
    assert response.status_code == 404
    assert (await app.test_client().get("/api/me", headers=bearer(bobs))).status_code == 200
    response = await post_form(
        client, f"/settings/tokens/{ids[signed_in_alice.id]}/revoke", {}, form_page="/settings"
    )
    assert response.status_code == 302
    assert (await app.test_client().get("/api/me", headers=bearer(mine))).status_code == 401


async def test_deactivation_ends_the_browser_session_at_once(app, client, signed_in_alice, store) -> None:
    async with store.write():
        await store.execute(update(User).where(User.id == signed_in_alice.id).values(is_active=False))
    response = await client.get("/dashboard")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    page = await (await client.get("/login")).get_data(as_text=True)
    assert "Your account has been deactivated." in page and "flash-danger" in page
    assert "Please log in to access this page." not in page
    assert await count(store, AuthSession) == 0
