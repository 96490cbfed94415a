"""`GET /api/notes` and its token: checked before anything the query string says, revoked at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from notes_service.data.models import ApiToken, User
from tests.helpers import api_token, bearer

INVALID = {"error": "Invalid token"}


@pytest.mark.parametrize(
    "query", ["", "?limit=2", "?limit=0", "?cursor=forged", "?unknown=1", "?q=word", "?limit=2&limit=3"]
)
async def test_an_unknown_token_is_a_401_whatever_the_query_says(client, query) -> None:
    response = await client.get(f"/api/notes{query}", headers=bearer("nts_unknown"))
    assert (response.status_code, await response.get_json()) == (401, INVALID)
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("change", ["deactivated", "expired"])
async def test_a_token_of_a_deactivated_user_or_past_its_expiry_lists_nothing(
    client, factory, store, change
) -> None:
    user = await factory.user("alice")
    headers = bearer(await api_token(client, "alice@example.com"))
    await client.post("/api/notes", json={"title": "t", "content": "c"}, headers=headers)
    async with store.write():
        if change == "deactivated":
            await store.execute(update(User).where(User.id == user.id).values(is_active=False))
        else:
            await store.execute(update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    response = await client.get("/api/notes", headers=headers)
    assert (response.status_code, await response.get_json()) == (401, INVALID)


async def test_listing_records_that_the_token_was_used(client, factory, store) -> None:
    await factory.user("alice")
    headers = bearer(await api_token(client, "alice@example.com"))
    assert await store.scalar(select(ApiToken.last_used_at)) is None
    assert await (await client.get("/api/notes", headers=headers)).get_json() == []  # no notes: no rows
    assert await store.scalar(select(ApiToken.last_used_at)) is not None
