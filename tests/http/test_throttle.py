"""Throttling of the auth endpoints (SPEC §4): per client address, per account, shared via Redis."""

from __future__ import annotations

import json
import uuid

import pytest

from notes_service import create_app
from tests.helpers import PASSWORD, app_settings, csrf_token, login, post_form


@pytest.fixture
def settings(database_url):  # type: ignore[no-untyped-def]
    return app_settings(database_url, auth_rate_limit="3/60")


def token_request(email: str = "alice@example.com", **headers: str):  # type: ignore[no-untyped-def]
    return {"json": {"email": email, "password": "wrong password"}, "headers": headers}


async def test_api_token_is_limited_per_client_with_retry_after(client, factory) -> None:
    await factory.user("alice")
    statuses = [(await client.post("/api/token", **token_request())).status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    response = await client.post("/api/token", **token_request())
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert "Too many attempts" in (await response.get_json())["error"]


async def test_login_page_shows_a_friendly_429(client, factory) -> None:
    await factory.user("alice")
    token = await csrf_token(client)
    form = {"email": "alice@example.com", "password": "wrong", "csrf_token": token}
    for _ in range(3):
        assert (await client.post("/login", form=form)).status_code == 200
    response = await client.post("/login", form=form)
    page = await response.get_data(as_text=True)
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert "Too many attempts. Please wait" in page and "flash-danger" in page


async def test_spoofed_forwarded_for_does_not_reset_the_budget(client) -> None:
    """With no trusted proxy, X-Forwarded-For is the client's own words and is ignored."""
    for number in range(3):
        body = {"username": f"user{number}", "email": f"u{number}@example.com", "password": PASSWORD}
        response = await client.post("/api/users", json=body, headers={"X-Forwarded-For": f"10.0.0.{number}"})
        assert response.status_code == 201
    response = await client.post(
        "/api/users",
        json={"username": "user9", "email": "u9@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": "10.9.9.9"},
    )
    assert response.status_code == 429


async def test_behind_one_trusted_proxy_the_real_client_is_the_last_hop(database_url) -> None:
    app = create_app(app_settings(database_url, auth_rate_limit="3/60", trusted_proxy_hops=1))
    async with app.test_app():
        client = app.test_client()

        async def attempt(forwarded_for: str) -> int:
            response = await client.post(
                "/api/token",
                **token_request(f"{uuid.uuid4().hex[:8]}@example.com", **{"X-Forwarded-For": forwarded_for}),
            )
            return response.status_code

        # The client writes a different left-most value each time; the proxy appends the real one.
        assert [await attempt(f"1.1.1.{n}, 203.0.113.7") for n in range(3)] == [401] * 3
        assert await attempt("1.1.1.99, 203.0.113.7") == 429
        assert await attempt("203.0.113.8") == 401  # another real client has its own budget


async def test_login_is_also_limited_per_account(database_url) -> None:
    app = create_app(app_settings(database_url, auth_rate_limit="3/60", trusted_proxy_hops=1))
    async with app.test_app():
        client = app.test_client()
        statuses = []
        for number in range(4):
            response = await client.post(
                "/api/token",
                **token_request("victim@example.com", **{"X-Forwarded-For": f"198.51.100.{number}"}),
            )
            statuses.append(response.status_code)
        assert statuses == [401, 401, 401, 429]


async def test_off_disables_throttling(database_url) -> None:
    app = create_app(app_settings(database_url, auth_rate_limit="off"))
    async with app.test_app():
        client = app.test_client()
        for _ in range(15):
            assert (await client.post("/api/token", **token_request())).status_code == 401


def behind_proxy(database_url: str, limit: str):  # type: ignore[no-untyped-def]
    """An app that takes each request's client address from X-Forwarded-For (one trusted proxy)."""
    return create_app(app_settings(database_url, auth_rate_limit=limit, trusted_proxy_hops=1))


async def register_alice(client) -> None:  # type: ignore[no-untyped-def]
    """alice@example.com with PASSWORD, made through the API (its own per-address budget)."""
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    assert (await client.post("/api/users", json=body)).status_code == 201


def client_address(number: int) -> dict[str, str]:
    return {"X-Forwarded-For": f"198.51.100.{number}"}


async def test_api_token_counts_the_account_whatever_the_content_type(database_url) -> None:
    """The API reads any body as JSON; a text/plain one must count against the account all the same."""
    app = behind_proxy(database_url, "8/60")
    async with app.test_app():
        client = app.test_client()
        await register_alice(client)

        async def attempt(password: str, number: int) -> int:
            body = json.dumps({"email": "alice@example.com", "password": password})
            headers = {"Content-Type": "text/plain", **client_address(number)}
            return (await client.post("/api/token", data=body, headers=headers)).status_code

        assert [await attempt("wrong password", n) for n in range(8)] == [401] * 8
        assert await attempt(PASSWORD, 9) == 429


async def test_an_account_locked_on_login_is_locked_on_the_api_too(database_url) -> None:
    app = behind_proxy(database_url, "3/60")
    async with app.test_app():
        client = app.test_client()
        await register_alice(client)
        form = {"email": "alice@example.com", "password": "wrong", "csrf_token": await csrf_token(client)}
        statuses = [
            (await client.post("/login", form=form, headers=client_address(n))).status_code for n in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        body = {"email": "alice@example.com", "password": PASSWORD}
        response = await client.post("/api/token", json=body, headers=client_address(9))
        assert response.status_code == 429 and "Retry-After" in response.headers


async def test_current_password_checks_are_limited_per_user(database_url) -> None:
    app = create_app(app_settings(database_url, auth_rate_limit="3/60"))
    async with app.test_app():
        client = app.test_client()
        await register_alice(client)
        assert (await login(client, "alice@example.com")).status_code == 302

        async def change(current: str) -> int:
            form = {
                "current_password": current,
                "new_password": "n3w password!",
                "confirm_password": "n3w password!",
            }
            return (await post_form(client, "/settings/password", form, form_page="/settings")).status_code

        assert [await change("wrong password") for _ in range(3)] == [422] * 3
        assert await change(PASSWORD) == 429
        assert (await login(app.test_client(), "alice@example.com")).status_code == 302  # not changed


async def test_a_request_refused_per_address_adds_no_account_key(database_url) -> None:
    app = create_app(app_settings(database_url, auth_rate_limit="3/60"))
    async with app.test_app():
        client = app.test_client()
        for number in range(20):
            await client.post("/api/token", **token_request(f"user{number}@example.com"))
        keys = app.extensions["throttle"].windows
        assert len([key for key in keys if ":account:" in key]) == 3
