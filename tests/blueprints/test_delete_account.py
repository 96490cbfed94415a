"""Closing an account (SPEC §7): the password, then every row of the user is gone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from notes_service.data.models import ApiToken, AuthSession, User
from notes_service.data.types import Base
from notes_service.services import totp, two_factor
from tests.helpers import PASSWORD, api_token, bearer, login, post_form


@pytest.fixture
def settings(settings):
    settings.update(mail_poll_seconds=3600)  # queued mail stays queued: deletion must take it
    return settings


async def rows_of(store, user_id: int) -> dict[str, int]:
    """How many rows of every table name this user (by a foreign key to users.id, or as the user)."""
    counts = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if column.references(User.__table__.c.id) or column is User.__table__.c.id:
                counts[f"{table.name}.{column.name}"] = await store.scalar(
                    select(func.count()).select_from(table).where(column == user_id)
                )
    return counts


def stamp_of(user_id: int):  # type: ignore[no-untyped-def]
    return select(User.security_stamp).where(User.id == user_id).scalar_subquery()


async def a_full_account(app, store, factory, name: str):
    """A user with notes, a browser session, an API token, link tokens, queued mail, two-factor rows,
    a kept Idempotency-Key answer and a deletion marker in the change feed."""
    user = await factory.user(name)
    client = app.test_client()
    await login(client, user.email)
    token = await api_token(app.test_client(), user.email)
    for number in range(4):  # the first kept for its Idempotency-Key, the last deleted for good
        keyed = {"Idempotency-Key": f"key-{number}"} if number == 0 else {}
        response = await app.test_client().post(
            "/api/notes",
            json={"title": f"n{number}", "content": "c", "tags": ["t"]},
            headers=bearer(token) | keyed,
        )
    note_path = f"/api/notes/{(await response.get_json())['id']}"
    await app.test_client().delete(note_path, headers=bearer(token))
    await app.test_client().delete(note_path.replace("/notes/", "/trash/"), headers=bearer(token))
    await post_form(client, "/settings/email/verify", {}, form_page="/settings")
    await app.test_client().post("/api/password/forgot", json={"email": user.email})
    async with store.write():  # recovery codes and a sign-in half done (two-factor, SPEC §8)
        box = totp.SecretBox("any key at all, long enough for the test")
        codes = totp.new_recovery_codes()
        await two_factor.turn_on(store, box, user_id=user.id, secret=totp.new_secret(), step=1, codes=codes)
        # Turning it on ends the sign-ins of before (their stamp); this account keeps them, as the
        # browser that enrolled would keep its own.
        for signed_in in (AuthSession, ApiToken):
            restamp = update(signed_in).where(signed_in.user_id == user.id)
            await store.execute(restamp.values(security_stamp=stamp_of(user.id)))
        await two_factor.start_pending(
            store,
            user_id=user.id,
            password_hash="h",
            security_stamp=1,
            remember=False,
            next_url=None,
            lifetime=timedelta(minutes=5),
        )
    counts = await rows_of(store, user.id)
    assert all(counts.values()), counts  # something in every table, so the check below means something
    return user, client, token


async def test_deleting_in_settings_leaves_no_row_of_the_user(app, store, factory) -> None:
    alice, client, token = await a_full_account(app, store, factory, "alice")
    bob, _, bob_token = await a_full_account(app, store, factory, "bob")
    bob_rows = await rows_of(store, bob.id)

    wrong = await post_form(
        client,
        "/settings/delete",
        {"current_password": "wrong password", "confirm": "DELETE"},
        form_page="/settings",
    )
    assert wrong.status_code == 422 and "Current password is incorrect." in await wrong.get_data(as_text=True)
    unconfirmed = await post_form(
        client, "/settings/delete", {"current_password": PASSWORD, "confirm": "delete"}, form_page="/settings"
    )
    assert unconfirmed.status_code == 422
    assert "Type DELETE to confirm." in await unconfirmed.get_data(as_text=True)
    assert await store.scalar(select(func.count()).select_from(User).where(User.id == alice.id)) == 1

    response = await post_form(
        client, "/settings/delete", {"current_password": PASSWORD, "confirm": "DELETE"}, form_page="/settings"
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = await (await client.get("/")).get_data(as_text=True)
    assert "Your account has been deleted." in home and "Welcome, alice" not in home
    assert set((await rows_of(store, alice.id)).values()) == {0}
    assert await rows_of(store, bob.id) == bob_rows
    assert (await app.test_client().get("/api/me", headers=bearer(token))).status_code == 401
    assert (await app.test_client().get("/api/me", headers=bearer(bob_token))).status_code == 200
    assert (await login(app.test_client(), "alice@example.com")).status_code == 200


async def test_delete_me_through_the_api(app, store, factory) -> None:
    alice, _, token = await a_full_account(app, store, factory, "alice")
    client = app.test_client()
    wrong = await client.delete("/api/me", json={"password": "wrong password"}, headers=bearer(token))
    assert (wrong.status_code, await wrong.get_json()) == (401, {"error": "Invalid credentials"})
    response = await client.delete("/api/me", json={"password": PASSWORD}, headers=bearer(token))
    assert response.status_code == 204
    assert set((await rows_of(store, alice.id)).values()) == {0}
    assert (await client.get("/api/me", headers=bearer(token))).status_code == 401
