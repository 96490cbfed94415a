"""Register, log in and out in the browser (SPEC §2)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from notes_service.data.models import AuthSession, User
from tests.helpers import PASSWORD, csrf_token, login, post_form


async def count(store, model) -> int:  # type: ignore[no-untyped-def]
    return await store.scalar(select(func.count()).select_from(model))  # type: ignore[no-any-return]


def registration(**changes: str) -> dict[str, str]:
    return {
        "username": "alice",
        "email": "Alice@Example.com",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
        **changes,
    }


async def test_home_shows_login_and_register_to_visitors(client) -> None:
    page = await (await client.get("/")).get_data(as_text=True)
    assert 'href="/login"' in page and 'href="/register"' in page
    assert "Welcome," not in page


async def test_register_creates_account_logs_in_and_flashes(store, client) -> None:
    response = await post_form(client, "/register", registration())
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = await (await client.get("/")).get_data(as_text=True)
    assert "Account created successfully." in page and "flash-success" in page
    # ... and where the confirmation mail went (issue 23 item 9), as the address is kept.
    assert re.search(
        r'<li class="flash flash-info" role="status">'
        r"We have sent a confirmation link to alice@example\.com\.</li>",
        page,
    ), page
    assert "Welcome, alice" in page and "Logout" in page
    user = await store.row(select(User))
    assert user.email == "alice@example.com"
    assert PASSWORD not in user.password_hash and user.password_hash.startswith("$bcrypt-sha256$")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"username": "ALICE"}, "Username already taken."),
        ({"email": "ALICE@example.com"}, "Email already registered."),
    ],
)
async def test_register_refuses_taken_username_or_email(store, client, factory, changes, message) -> None:
    await factory.user("alice", email="alice@example.com")
    response = await post_form(
        client, "/register", registration(**{"username": "bob", "email": "bob@example.com", **changes})
    )
    assert response.status_code == 422
    assert message in await response.get_data(as_text=True)
    assert await count(store, User) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "short", "confirm_password": "short"}, "between 8 and 1024 characters"),
        ({"confirm_password": "something else"}, "Passwords must match."),
        ({"username": "no spaces allowed"}, "Use letters, digits"),
        ({"username": "ab"}, "between 3 and 80"),
        ({"email": "not-an-email"}, "Invalid email address."),
    ],
)
async def test_register_shows_field_errors_and_keeps_input(store, client, changes, message) -> None:
    response = await post_form(client, "/register", registration(**changes))
    page = await response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    assert PASSWORD not in page  # typed passwords are never echoed back
    kept = registration(**changes)
    for name in ("username", "email"):  # the other fields keep what was typed
        assert re.search(rf'<input[^>]* name="{name}"[^>]* value="{re.escape(kept[name])}"', page), name
    assert await count(store, User) == 0


async def test_register_redirects_logged_in_users(client, factory) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    response = await client.get("/register")
    assert response.status_code == 302 and response.headers["Location"] == "/"


async def test_login_then_logout(store, client, factory) -> None:
    await factory.user("alice")
    response = await login(client, "ALICE@example.com")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = await (await client.get("/")).get_data(as_text=True)
    assert "Logged in successfully." in page and "Welcome, alice" in page
    assert await count(store, AuthSession) == 1

    logout_page = await client.get("/logout")  # GET changes nothing
    assert logout_page.status_code == 200 and await count(store, AuthSession) == 1
    response = await post_form(client, "/logout", {}, form_page="/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = await (await client.get("/login")).get_data(as_text=True)
    assert "You have been logged out." in page and "flash-info" in page
    assert await count(store, AuthSession) == 0


@pytest.mark.parametrize("email", ["alice@example.com", "nobody@example.com"])
async def test_login_failure_is_the_same_for_unknown_email_and_wrong_password(client, factory, email) -> None:
    await factory.user("alice")
    response = await login(client, email, "wrong password")
    page = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Invalid email or password." in page and "flash-danger" in page
    assert "Welcome," not in page


async def test_remember_me_sets_a_persistent_cookie(client, factory) -> None:
    await factory.user("alice")
    response = await login(client, "alice@example.com", remember="y")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("notes_auth="))
    assert "Max-Age=2592000" in cookie  # 30 days
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


async def test_without_remember_me_the_cookie_ends_with_the_browser(client, factory) -> None:
    await factory.user("alice")
    response = await login(client, "alice@example.com")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("notes_auth="))
    assert "Max-Age" not in cookie and "Expires" not in cookie


async def test_cookies_are_secure_over_https(client, factory) -> None:
    await factory.user("alice")
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        form={"email": "alice@example.com", "password": PASSWORD, "csrf_token": token},
        scheme="https",
    )
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie for cookie in cookies)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/notes?page=2", "/notes?page=2"),
        ("//evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
async def test_login_follows_only_local_next(client, factory, target, expected) -> None:
    await factory.user("alice")
    response = await login(client, "alice@example.com", next=target)
    assert response.headers["Location"] == expected


async def test_deactivated_account_cannot_log_in(store, client, factory) -> None:
    user = await factory.user("alice")
    async with store.write():
        await store.execute(update(User).where(User.id == user.id).values(is_active=False))
    response = await login(client, "alice@example.com")
    assert "Your account has been deactivated." in await response.get_data(as_text=True)
    assert await count(store, AuthSession) == 0


async def test_post_without_csrf_token_is_refused(store, client) -> None:
    response = await client.post("/register", form=registration())
    assert response.status_code == 400
    assert await count(store, User) == 0
    response = await client.post("/register", form={**registration(), "csrf_token": "forged"})
    assert response.status_code == 400
    assert await count(store, User) == 0


async def test_login_upgrades_a_hash_made_at_an_older_cost(database_url, factory, app, store) -> None:
    from notes_service import create_app
    from tests.helpers import app_settings

    await factory.user("alice")  # hashed at cost 4
    stronger = create_app(app_settings(database_url, bcrypt_rounds=5))
    async with stronger.test_app():
        response = await login(stronger.test_client(), "alice@example.com")
        assert response.status_code == 302
        stored = await stronger.extensions["database"].store().scalar(select(User.password_hash))
    assert "r=5" in stored


async def test_a_csrf_token_taken_before_sign_in_is_refused_after_it(client, factory) -> None:
    await factory.user("alice")
    before = await csrf_token(client, "/login")
    form = {"email": "alice@example.com", "password": PASSWORD, "csrf_token": before}
    assert (await client.post("/login", form=form)).status_code == 302
    response = await client.post("/settings/sessions/revoke-others", form={"csrf_token": before})
    assert response.status_code == 400
    fresh = await csrf_token(client, "/settings")
    response = await client.post("/settings/sessions/revoke-others", form={"csrf_token": fresh})
    assert response.status_code == 302


async def test_a_csrf_token_taken_before_sign_out_is_refused_after_it(client, factory) -> None:
    await factory.user("alice")
    await login(client, "alice@example.com")
    before = await csrf_token(client, "/settings")
    assert (await client.post("/logout", form={"csrf_token": before})).status_code == 302
    form = {"email": "alice@example.com", "password": PASSWORD, "csrf_token": before}
    assert (await client.post("/login", form=form)).status_code == 400
