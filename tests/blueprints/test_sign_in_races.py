"""A sign-in that raced a password change creates nothing (browser login and API token alike).

The password is checked (bcrypt, a quarter of a second in production) before the write block that
creates the auth session or token; a change committed in between must win.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from notes_service.data.models import ApiToken, AuthSession, User
from notes_service.services import users
from tests.helpers import PASSWORD, csrf_token

NEW_PASSWORD = "a brand new passphrase"


async def race(
    app: Any,
    store: Any,
    monkeypatch: Any,
    user_id: int,
    sign_in: Callable[[], Awaitable[Any]],
    change: Callable[[Any, Any], Awaitable[Any]] | None = None,
) -> Any:
    """Run `sign_in`, and change the password (or make `change`) after its check and before its write
    block."""
    hasher = app.extensions["hasher"]
    checked, changed = asyncio.Event(), asyncio.Event()
    verify = hasher.verify

    async def verify_then_wait(password: str, password_hash: str | None) -> Any:
        result = await verify(password, password_hash)
        checked.set()
        await changed.wait()
        return result

    monkeypatch.setattr(hasher, "verify", verify_then_wait)
    attempt = asyncio.create_task(sign_in())
    await asyncio.wait_for(checked.wait(), 5)
    if change is None:
        new_hash = await hasher.hash(NEW_PASSWORD)
        async with store.write():  # what POST /settings/password commits meanwhile
            await users.set_password_hash(store, user_id=user_id, password_hash=new_hash)
    else:
        await change(store, user_id)
    changed.set()
    return await asyncio.wait_for(attempt, 5)


async def test_a_token_request_racing_a_password_change_gets_no_token(
    app, client, factory, store, monkeypatch
):
    alice = await factory.user("alice")
    response = await race(
        app,
        store,
        monkeypatch,
        alice.id,
        lambda: client.post("/api/token", json={"email": "alice@example.com", "password": PASSWORD}),
    )
    assert response.status_code == 401 and (await response.get_json()) == {"error": "Invalid credentials"}
    assert await store.scalar(select(func.count(ApiToken.id))) == 0


async def test_a_browser_login_racing_a_password_change_gets_no_session(
    app, client, factory, store, monkeypatch
):
    alice = await factory.user("alice")
    token = await csrf_token(client)
    form = {"email": "alice@example.com", "password": PASSWORD, "csrf_token": token}
    response = await race(app, store, monkeypatch, alice.id, lambda: client.post("/login", form=form))
    assert response.status_code == 200
    assert "Invalid email or password." in await response.get_data(as_text=True)
    assert await store.scalar(select(func.count(AuthSession.id))) == 0
    assert (await client.get("/dashboard")).status_code == 302


@pytest.mark.parametrize("path", ["/api/token", "/login"])
async def test_without_a_race_the_same_sign_in_works(client, factory, store, path):
    await factory.user("alice")
    if path == "/api/token":
        response = await client.post(path, json={"email": "alice@example.com", "password": PASSWORD})
        assert response.status_code == 200
    else:
        form = {"email": "alice@example.com", "password": PASSWORD, "csrf_token": await csrf_token(client)}
        assert (await client.post(path, form=form)).status_code == 302


async def deactivated_and_back(store: Any, user_id: int) -> None:
    """What `notes-service deactivate-user`, then `reactivate-user`, commit meanwhile."""
    email = await store.scalar(select(User.email).where(User.id == user_id))
    for active in (False, True):
        async with store.write():
            await users.set_active(store, email=email, active=active)


async def test_a_sign_in_racing_a_deactivation_gets_nothing_even_once_undone(
    app, client, factory, store, monkeypatch
):
    """SPEC §6: no sign-in outlives a deactivation made while it was in flight, even when the
    account is active again by the time the session or token would be written."""
    alice = await factory.user("alice")
    response = await race(
        app,
        store,
        monkeypatch,
        alice.id,
        lambda: client.post("/api/token", json={"email": "alice@example.com", "password": PASSWORD}),
        deactivated_and_back,
    )
    assert response.status_code == 401
    token = await csrf_token(client)
    form = {"email": "alice@example.com", "password": PASSWORD, "csrf_token": token}
    monkeypatch.undo()
    await race(
        app, store, monkeypatch, alice.id, lambda: client.post("/login", form=form), deactivated_and_back
    )
    assert await store.scalar(select(func.count(ApiToken.id))) == 0
    assert await store.scalar(select(func.count(AuthSession.id))) == 0
    assert (await client.get("/dashboard")).status_code == 302
