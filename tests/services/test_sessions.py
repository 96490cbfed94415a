"""Server-side sessions: how long they live, and that only digests are stored."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from notes_service.db import utcnow
from notes_service.models import AuthSession
from notes_service.security import digest
from notes_service.services import sessions

LIFETIME = sessions.Lifetime(remember=timedelta(days=30), idle=timedelta(hours=24))


async def start(app, user_id: int, *, remember: bool) -> str:  # type: ignore[no-untyped-def]
    async with app.extensions["db"]() as session:
        secret = await sessions.start_session(session, user_id=user_id, remember=remember, user_agent="t")
        await session.commit()
    return secret


async def age(app, **changes) -> None:  # type: ignore[no-untyped-def]
    async with app.extensions["db"]() as session:
        await session.execute(update(AuthSession).values(**changes))
        await session.commit()


async def load(app, secret: str):  # type: ignore[no-untyped-def]
    return await sessions.load_session(app.extensions["db_reader"], secret=secret, lifetime=LIFETIME)


async def test_only_the_digest_of_the_secret_is_stored(app, factory) -> None:
    user = await factory.user()
    secret = await start(app, user.id, remember=False)
    async with app.extensions["db"]() as session:
        stored = await session.scalar(select(AuthSession.id_digest))
    assert stored == digest(secret) and secret not in stored
    found = await load(app, secret)
    assert found is not None and found.id == user.id and found.username == user.username


async def test_a_browser_session_ends_after_a_day_without_requests(app, factory) -> None:
    user = await factory.user()
    secret = await start(app, user.id, remember=False)
    await age(app, last_seen_at=utcnow() - timedelta(hours=23))
    assert await load(app, secret) is not None
    await age(app, last_seen_at=utcnow() - timedelta(hours=25))
    assert await load(app, secret) is None


async def test_a_remembered_session_lasts_its_days_whatever_the_activity(app, factory) -> None:
    user = await factory.user()
    secret = await start(app, user.id, remember=True)
    await age(app, last_seen_at=utcnow() - timedelta(days=10), created_at=utcnow() - timedelta(days=10))
    assert await load(app, secret) is not None
    await age(app, created_at=utcnow() - timedelta(days=31))
    assert await load(app, secret) is None


async def test_unknown_secret(app) -> None:
    assert await load(app, "not-a-session") is None
