"""Auth sessions (server-side sign-ins): how long they live, and that only digests are stored."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from notes_service.data import utcnow
from notes_service.data.models import AuthSession
from notes_service.services import auth_sessions
from notes_service.services.security import digest
from notes_service.serving.housekeeping import delete_expired

LIFETIME = auth_sessions.Lifetime(
    remember=timedelta(days=30), idle=timedelta(hours=24), longest=timedelta(days=7)
)


async def start(store, user_id: int, *, remember: bool) -> str:  # type: ignore[no-untyped-def]
    async with store.write():
        return await auth_sessions.start_auth_session(
            store, user_id=user_id, remember=remember, user_agent="t"
        )


async def age(store, **changes) -> None:  # type: ignore[no-untyped-def]
    async with store.write():
        await store.execute(update(AuthSession).values(**changes))


async def load(store, secret: str):  # type: ignore[no-untyped-def]
    return await auth_sessions.find_auth_session(store, secret=secret, lifetime=LIFETIME)


async def test_only_the_digest_of_the_secret_is_stored(store, factory) -> None:
    user = await factory.user()
    secret = await start(store, user.id, remember=False)
    stored = await store.scalar(select(AuthSession.id_digest))
    assert stored == digest(secret) and secret not in stored
    found = await load(store, secret)
    assert found is not None and found.user.id == user.id and found.user.username == user.username


async def test_a_browser_session_ends_after_a_day_without_requests(store, factory) -> None:
    user = await factory.user()
    secret = await start(store, user.id, remember=False)
    await age(store, last_seen_at=utcnow() - timedelta(hours=23))
    assert await load(store, secret) is not None
    await age(store, last_seen_at=utcnow() - timedelta(hours=25))
    assert await load(store, secret) is None


async def test_a_remembered_session_lasts_its_days_whatever_the_activity(store, factory) -> None:
    user = await factory.user()
    secret = await start(store, user.id, remember=True)
    await age(store, last_seen_at=utcnow() - timedelta(days=10), created_at=utcnow() - timedelta(days=10))
    assert await load(store, secret) is not None
    await age(store, created_at=utcnow() - timedelta(days=31))
    assert await load(store, secret) is None


async def test_unknown_secret(store) -> None:
    assert await load(store, "not-a-session") is None


async def test_a_browser_session_ends_a_week_after_it_began_however_active(store, factory) -> None:
    user = await factory.user()
    secret = await start(store, user.id, remember=False)
    await age(store, created_at=utcnow() - timedelta(days=6), last_seen_at=utcnow())
    assert await load(store, secret) is not None
    await age(store, created_at=utcnow() - timedelta(days=8), last_seen_at=utcnow())
    assert await load(store, secret) is None


async def test_ended_sessions_are_not_listed_and_housekeeping_deletes_them(store, factory) -> None:
    user = await factory.user()
    for remember in (False, False, True):
        await start(store, user.id, remember=remember)
    live, idle, old = (row.id for row in await store.rows(select(AuthSession.id).order_by(AuthSession.id)))
    async with store.write():
        await store.execute(
            update(AuthSession)
            .where(AuthSession.id == idle)
            .values(last_seen_at=utcnow() - timedelta(hours=25))
        )
        await store.execute(
            update(AuthSession).where(AuthSession.id == old).values(created_at=utcnow() - timedelta(days=31))
        )
    listed = await auth_sessions.list_auth_sessions(store, user_id=user.id, lifetime=LIFETIME)
    assert [row.id for row in listed] == [live]
    await delete_expired(store.database, LIFETIME)
    assert [row.id for row in await store.rows(select(AuthSession.id))] == [live]
