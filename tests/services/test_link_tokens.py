"""Link tokens: one use, one purpose, one account, a limited life, and only a digest stored."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from notes_service.data import utcnow
from notes_service.data.models import LinkToken, User
from notes_service.services import link_tokens
from notes_service.services.link_tokens import CONFIRM, RESET
from notes_service.services.security import digest


async def issue(store, user, purpose: str = RESET) -> str:
    async with store.write():
        return await link_tokens.issue_link(store, user_id=user.id, purpose=purpose, email=user.email)


async def use(store, secret: str, purpose: str = RESET):
    async with store.write():
        return await link_tokens.use_link(store, secret=secret, purpose=purpose)


async def test_a_link_works_once_and_finding_it_does_not_use_it(store, factory) -> None:
    alice = await factory.user("alice")
    secret = await issue(store, alice)
    assert len(secret) >= 43
    assert (await store.row(select(LinkToken.token_digest))).token_digest == digest(secret)
    for _ in range(2):
        assert (await link_tokens.find_link(store, secret=secret, purpose=RESET)).user_id == alice.id
    used = await use(store, secret)
    assert (used.user_id, used.email) == (alice.id, "alice@example.com")
    assert await use(store, secret) is None
    assert await link_tokens.find_link(store, secret=secret, purpose=RESET) is None


async def test_a_link_is_bound_to_its_purpose_and_lifetime(store, factory) -> None:
    alice = await factory.user("alice")
    secret = await issue(store, alice, CONFIRM)
    assert await use(store, secret, RESET) is None
    row = await store.row(select(LinkToken.created_at, LinkToken.expires_at))
    assert row.expires_at - row.created_at == timedelta(days=7)
    async with store.write():
        await store.execute(update(LinkToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert await use(store, secret, CONFIRM) is None

    reset = await issue(store, alice)
    row = await store.row(
        select(LinkToken.created_at, LinkToken.expires_at).where(LinkToken.purpose == RESET)
    )
    assert row.expires_at - row.created_at == timedelta(minutes=60)
    assert await use(store, reset) is not None


async def test_a_reset_link_dies_with_its_address_or_an_inactive_account(store, factory) -> None:
    alice = await factory.user("alice")
    moved = await issue(store, alice)
    deactivated = await issue(store, alice)
    async with store.write():
        await store.execute(update(User).values(email="alice@elsewhere.example.com"))
    assert await link_tokens.find_link(store, secret=moved, purpose=RESET) is None
    assert await use(store, moved) is None
    async with store.write():
        await store.execute(update(User).values(email="alice@example.com", is_active=False))
    assert await link_tokens.find_link(store, secret=deactivated, purpose=RESET) is None
    assert await use(store, deactivated) is None


async def test_expired_links_are_deleted(store, factory) -> None:
    alice = await factory.user("alice")
    await issue(store, alice)
    live = await issue(store, alice)
    async with store.write():
        await store.execute(
            update(LinkToken)
            .where(LinkToken.token_digest != digest(live))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        assert await link_tokens.delete_expired_links(store) == 1
    assert await link_tokens.find_link(store, secret=live, purpose=RESET) is not None
