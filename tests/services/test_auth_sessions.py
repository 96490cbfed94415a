"""Auth sessions (server-side sign-ins): how long they live, and that only digests are stored."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from notes_service.data import utcnow
from notes_service.data.models import ApiToken, AuthSession
from notes_service.services import auth_sessions, tokens, users
from notes_service.services.security import digest
from notes_service.serving.housekeeping import delete_expired

LIFETIME = auth_sessions.Lifetime(
    remember=timedelta(days=30), idle=timedelta(hours=24), longest=timedelta(days=7)
)


async def start(store, user_id: int, *, remember: bool) -> str:  # type: ignore[no-untyped-def]
    async with store.write():
        return await auth_sessions.start_auth_session(
            store, user_id=user_id, remember=remember, user_agent="t", security_stamp=0
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


async def test_a_change_of_the_accounts_security_ends_its_sessions_and_tokens(store, factory) -> None:
    """The security stamp (SPEC §6): a session or token made under an older stamp is found by no
    lookup or list, whatever rows a change left behind, and housekeeping deletes it; the session
    kept by `end_other_auth_sessions` takes the new stamp."""
    user, other = await factory.user(), await factory.user()
    kept, ended, others = [await start(store, u, remember=False) for u in (user.id, user.id, other.id)]
    async with store.write():
        _, token = await tokens.issue_token(
            store, user_id=user.id, name="t", expires_in_days=None, security_stamp=0
        )
        _, other_token = await tokens.issue_token(
            store, user_id=other.id, name="t", expires_in_days=None, security_stamp=None
        )
    kept_id = (await load(store, kept)).auth_session_id  # type: ignore[union-attr]
    async with store.write():
        await users.bump_security_stamp(store, user_id=user.id)
    assert await load(store, kept) is None and await load(store, ended) is None
    assert await tokens.find_token(store, secret=token) is None
    assert await auth_sessions.list_auth_sessions(store, user_id=user.id, lifetime=LIFETIME) == []
    assert await tokens.list_tokens(store, user_id=user.id) == []
    async with store.write():  # the browser that made the change keeps its session
        await auth_sessions.end_other_auth_sessions(store, user_id=user.id, keep_id=kept_id)
    found = await load(store, kept)
    assert found is not None and found.user.security_stamp == 1
    async with store.write():  # a session left with an old stamp (made while the change was in flight)
        await auth_sessions.start_auth_session(
            store, user_id=user.id, remember=True, user_agent="late", security_stamp=0
        )
    await delete_expired(store.database, LIFETIME)
    assert {row.id for row in await store.rows(select(AuthSession.id))} == {
        kept_id,
        (await load(store, others)).auth_session_id,  # type: ignore[union-attr]
    }
    assert await store.scalar(select(func.count(ApiToken.id))) == 1  # the other user's
    assert (await tokens.find_token(store, secret=other_token)) is not None
