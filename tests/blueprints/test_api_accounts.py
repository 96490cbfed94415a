"""API accounts and tokens (SPEC §3): exact statuses and bodies."""

from __future__ import annotations

import asyncio
import html
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from notes_service.data.models import ApiToken, User
from tests.helpers import PASSWORD, Factory, api_token, bearer, post_form


async def test_issue_token(client, factory) -> None:
    await factory.user("alice")
    response = await client.post(
        "/api/token",
        json={"email": "Alice@example.com", "password": PASSWORD, "name": "cli", "expires_in_days": 7},
    )
    body = await response.get_json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer" and body["token"].startswith("nts_")
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires.tzinfo is not None and timedelta(days=6) < expires - datetime.now(UTC) <= timedelta(days=7)


async def test_token_without_expiry(client, factory) -> None:
    await factory.user("alice")
    body = await (
        await client.post("/api/token", json={"email": "alice@example.com", "password": PASSWORD})
    ).get_json()
    assert body["expires_at"] is None


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        ({"data": "not json", "headers": {"Content-Type": "application/json"}}, 400, "No data provided"),
        ({"data": ""}, 400, "No data provided"),
        ({"json": ["email", "password"]}, 400, "No data provided"),
        ({"json": {"email": "alice@example.com", "password": "wrong password"}}, 401, "Invalid credentials"),
        ({"json": {"email": "nobody@example.com", "password": PASSWORD}}, 401, "Invalid credentials"),
    ],
)
async def test_issue_token_errors(client, factory, kwargs, status, error) -> None:
    await factory.user("alice")
    response = await client.post("/api/token", **kwargs)
    assert response.status_code == status
    assert (await response.get_json())["error"] == error


async def test_issue_token_validates_fields(client, factory) -> None:
    response = await client.post("/api/token", json={"email": "a@example.com", "password": 5, "extra": 1})
    body = await response.get_json()
    assert response.status_code == 422
    assert set(body["details"]) == {"password", "extra"}


async def test_inactive_user_gets_no_token_and_its_tokens_stop_working(app, client, factory, store) -> None:
    user = await factory.user("alice")
    token = await api_token(client, "alice@example.com")
    async with store.write():
        await store.execute(update(User).where(User.id == user.id).values(is_active=False))
    response = await client.post("/api/token", json={"email": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 401 and (await response.get_json())["error"] == "Invalid credentials"
    response = await client.get("/api/me", headers=bearer(token))
    assert response.status_code == 401 and (await response.get_json()) == {"error": "Invalid token"}


async def test_issuing_a_token_keeps_the_others(client, factory) -> None:
    await factory.user("alice")
    first = await api_token(client, "alice@example.com")
    second = await api_token(client, "alice@example.com")
    for token in (first, second):
        assert (await client.get("/api/me", headers=bearer(token))).status_code == 200


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({}, "Token required"),
        ({"Authorization": "Basic YWxpY2U6cHc="}, "Token required"),
        ({"Authorization": "Bearer"}, "Token required"),
        ({"Authorization": "Bearer nts_unknown"}, "Invalid token"),
    ],
)
async def test_missing_or_unknown_token(client, headers, error) -> None:
    response = await client.get("/api/me", headers=headers)
    assert response.status_code == 401
    assert await response.get_json() == {"error": error}
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_scheme_is_case_insensitive(client, factory) -> None:
    await factory.user("alice")
    token = await api_token(client, "alice@example.com")
    response = await client.get("/api/me", headers={"Authorization": f"bEaReR {token}"})
    assert response.status_code == 200


async def test_browser_cookie_does_not_authenticate_the_api(app, client, factory) -> None:
    from tests.helpers import login

    await factory.user("alice")
    await login(client, "alice@example.com")
    assert (await client.get("/dashboard")).status_code == 200
    response = await client.get("/api/me")
    assert response.status_code == 401 and await response.get_json() == {"error": "Token required"}


async def test_bearer_token_does_not_authenticate_browser_pages(client, factory) -> None:
    await factory.user("alice")
    token = await api_token(client, "alice@example.com")
    assert (await client.get("/dashboard", headers=bearer(token))).status_code == 302


async def test_me(client, factory) -> None:
    user = await factory.user("alice")
    token = await api_token(client, "alice@example.com")
    body = await (await client.get("/api/me", headers=bearer(token))).get_json()
    assert body == {
        "id": user.id,
        "username": "alice",
        "email": "alice@example.com",
        "created_at": user.created_at.isoformat(),
        "email_verified": False,
        "two_factor": False,
    }


async def test_revoke_current_token(client, factory) -> None:
    await factory.user("alice")
    token = await api_token(client, "alice@example.com")
    other = await api_token(client, "alice@example.com")
    response = await client.delete("/api/token", headers=bearer(token))
    assert response.status_code == 204
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 401
    assert (await client.get("/api/me", headers=bearer(other))).status_code == 200


async def test_expired_token_is_refused(app, client, factory, store) -> None:
    await factory.user("alice")
    token = await api_token(client, "alice@example.com")
    async with store.write():
        await store.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    response = await client.get("/api/me", headers=bearer(token))
    assert response.status_code == 401 and await response.get_json() == {"error": "Invalid token"}


async def test_expired_tokens_are_not_listed(client, factory, store) -> None:
    await factory.user("alice")
    token = await api_token(client, "alice@example.com")
    await api_token(client, "alice@example.com")  # expires now
    async with store.write():
        await store.execute(
            update(ApiToken)
            .where(ApiToken.id == select(func.max(ApiToken.id)).scalar_subquery())
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    listed = await (await client.get("/api/tokens", headers=bearer(token))).get_json()
    assert len(listed) == 1


async def test_the_service_deletes_expired_tokens_by_itself(settings, factory) -> None:
    from notes_service import create_app

    settings["housekeeping_seconds"] = 0.05
    app = create_app(settings)
    async with app.test_app():
        store = app.extensions["database"].store()
        await Factory(store, app.extensions["hasher"]).user("alice")
        await api_token(app.test_client(), "alice@example.com")
        async with store.write():
            await store.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        for _ in range(100):  # a round every 0.05 s: gone well within 5 s
            if await store.scalar(select(func.count(ApiToken.id))) == 0:
                break
            await asyncio.sleep(0.05)
        assert await store.scalar(select(func.count(ApiToken.id))) == 0


async def test_list_and_revoke_tokens_only_ones_own(client, factory) -> None:
    await factory.user("alice")
    await factory.user("bob")
    alice = await api_token(client, "alice@example.com")
    bob = await api_token(client, "bob@example.com")
    listed = await (await client.get("/api/tokens", headers=bearer(alice))).get_json()
    assert len(listed) == 1
    assert set(listed[0]) == {"id", "name", "created_at", "last_used_at", "expires_at"}
    assert listed[0]["last_used_at"] is not None  # this very request used it
    bobs = await (await client.get("/api/tokens", headers=bearer(bob))).get_json()
    response = await client.delete(f"/api/tokens/{bobs[0]['id']}", headers=bearer(alice))
    assert response.status_code == 404 and await response.get_json() == {"error": "Not found"}
    assert (await client.get("/api/me", headers=bearer(bob))).status_code == 200
    response = await client.delete(f"/api/tokens/{listed[0]['id']}", headers=bearer(alice))
    assert response.status_code == 204
    assert (await client.get("/api/me", headers=bearer(alice))).status_code == 401


async def test_last_used_is_written_at_most_once_a_minute(app, client, factory, store) -> None:
    await factory.user("alice")
    token = await api_token(client, "alice@example.com")
    await client.get("/api/me", headers=bearer(token))
    first = await store.scalar(select(ApiToken.last_used_at))
    await client.get("/api/me", headers=bearer(token))
    assert await store.scalar(select(ApiToken.last_used_at)) == first


async def test_register_user(app, client) -> None:
    response = await client.post(
        "/api/users", json={"username": "alice", "email": "Alice@Example.com", "password": PASSWORD}
    )
    body = await response.get_json()
    assert response.status_code == 201
    assert set(body) == {"id", "username", "email", "created_at", "email_verified", "two_factor"}
    assert body["email"] == "alice@example.com"
    assert "+00:00" in body["created_at"]


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"username": "ALICE", "email": "new@example.com"}, "Username already taken."),
        ({"username": "newbie", "email": "alice@EXAMPLE.com"}, "Email already registered."),
    ],
)
async def test_register_conflicts_are_409(app, client, factory, payload, error, store) -> None:
    await factory.user("alice")
    response = await client.post("/api/users", json={**payload, "password": PASSWORD})
    assert response.status_code == 409
    assert (await response.get_json())["error"] == error
    assert len(await store.rows(select(User))) == 1


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"username": "a b", "email": "x@example.com", "password": PASSWORD}, {"username"}),
        ({"username": "ab", "email": "x@example.com", "password": PASSWORD}, {"username"}),
        ({"username": "alice", "email": "nope", "password": PASSWORD}, {"email"}),
        ({"username": "alice", "email": "x@example.com", "password": "short"}, {"password"}),
        ({"username": "alice", "email": "x@example.com"}, {"password"}),
        (
            {"username": 5, "email": "x@example.com", "password": PASSWORD, "admin": True},
            {"username", "admin"},
        ),
    ],
)
async def test_register_validation_names_each_bad_field(app, client, payload, fields, store) -> None:
    response = await client.post("/api/users", json=payload)
    body = await response.get_json()
    assert response.status_code == 422 and set(body["details"]) == fields
    assert await store.rows(select(User)) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("username", "ca rol!", "Use letters, digits, _ - and . only."),
        ("username", "ab", "Field must be between 3 and 80 characters long."),
        ("username", "", "This field is required."),
        ("email", "notanemail", "Invalid email address."),
        ("email", "a" * 250 + "@example.com", "Field cannot be longer than 254 characters."),
        ("password", "short", "Field must be between 8 and 1024 characters long."),
    ],
)
async def test_register_messages_are_the_forms_word_for_word(app, client, field, value, message) -> None:
    account = {"username": "carol", "email": "carol@example.com", "password": PASSWORD, field: value}
    response = await client.post("/api/users", json=account)
    assert response.status_code == 422
    assert (await response.get_json())["details"] == {field: message}

    form = await post_form(
        app.test_client(), "/register", {**account, "confirm_password": account["password"]}
    )
    assert form.status_code == 422
    assert message in html.unescape(await form.get_data(as_text=True))


async def test_a_missing_field_is_required_in_the_forms_words(client) -> None:
    response = await client.post("/api/users", json={"username": "carol", "email": "carol@example.com"})
    assert (await response.get_json())["details"] == {"password": "This field is required."}
