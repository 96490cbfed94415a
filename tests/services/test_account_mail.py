"""Reset requests (issue #20, item 9): one row of the same shape for any address, resolved by the
sender into a link and a message only for the active account that still has that address."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from notes_service.data import Store, utcnow
from notes_service.data.models import LinkToken, OutboxMessage, User
from notes_service.services import account_mail, link_tokens, outbox, users
from tests.helpers import Factory

BASE_URL = "https://notes.example.com"
REQUEST_COLUMNS = (
    OutboxMessage.user_id,
    OutboxMessage.recipient,
    OutboxMessage.subject,
    OutboxMessage.body,
    OutboxMessage.pending_link,
)


@pytest.fixture
def settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The app's own sender stays idle: the tests resolve the requests themselves."""
    settings.update(mail_poll_seconds=3600.0)
    return settings


async def request(store: Store, email: str) -> outbox.Message:
    """Queue a reset request as the route does, then claim it as the sender does."""
    async with store.write():
        await account_mail.request_password_reset(store, email=email)
    async with store.write():
        (claimed,) = await outbox.claim_due(store, lease=timedelta(minutes=5), limit=10)
    return claimed


async def resolve(store: Store, claimed: outbox.Message) -> account_mail.Resolved | None:
    async with store.write():
        return await account_mail.resolve_request(store, claimed, base_url=BASE_URL)


async def count(store: Store, model: Any) -> int:
    return int(await store.scalar(select(func.count(model.id))))


async def test_known_and_unknown_addresses_queue_the_same_row(store: Store, factory: Factory) -> None:
    await factory.user("alice")
    for email in ("Alice@example.com", "zelda@example.com"):
        async with store.write():
            await account_mail.request_password_reset(store, email=email)
    rows = await store.rows(select(*REQUEST_COLUMNS).order_by(OutboxMessage.id))
    assert [tuple(row) for row in rows] == [
        (None, "alice@example.com", "Reset your password", "", "password_reset"),
        (None, "zelda@example.com", "Reset your password", "", "password_reset"),
    ]
    assert await count(store, LinkToken) == 0  # no link is made on the response path


async def test_a_known_address_gets_a_link_that_resets_the_password(store: Store, factory: Factory) -> None:
    alice = await factory.user("alice")
    resolved = await resolve(store, await request(store, "alice@example.com"))
    assert resolved is not None and resolved.user_id == alice.id
    link = next(line for line in resolved.body.splitlines() if line.startswith(BASE_URL))
    secret = link.split("token=", 1)[1]
    row = await store.row(select(*REQUEST_COLUMNS))
    assert row is not None and (row.user_id, row.body, row.pending_link) == (alice.id, resolved.body, None)
    found = await link_tokens.find_link(store, secret=secret, purpose=link_tokens.RESET)
    assert found is not None and found.user_id == alice.id


async def test_an_unknown_address_is_dropped(store: Store, factory: Factory) -> None:
    await factory.user("alice")
    assert await resolve(store, await request(store, "zelda@example.com")) is None
    assert await count(store, OutboxMessage) == 0 and await count(store, LinkToken) == 0


async def test_a_security_change_after_the_request_voids_it(store: Store, factory: Factory) -> None:
    """A password change (any change of the security stamp) voids a request made before it, as it
    voids a link made then."""
    alice = await factory.user("alice")
    claimed = await request(store, "alice@example.com")
    async with store.write():
        await users.bump_security_stamp(store, user_id=alice.id)
    assert await resolve(store, claimed) is None
    assert await count(store, OutboxMessage) == 0 and await count(store, LinkToken) == 0


async def test_a_deactivated_account_and_an_old_request_get_nothing(store: Store, factory: Factory) -> None:
    await factory.user("alice")
    old = await request(store, "alice@example.com")
    old = old._replace(created_at=utcnow() - timedelta(minutes=61))  # older than a reset link lives
    assert await resolve(store, old) is None
    claimed = await request(store, "alice@example.com")
    async with store.write():
        await store.execute(update(User).values(is_active=False))
    assert await resolve(store, claimed) is None
    assert await count(store, OutboxMessage) == 0 and await count(store, LinkToken) == 0
