"""API tokens: random secrets of which only a SHA-256 digest is stored, many per user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import begin_write, utcnow
from ..models import ApiToken, User
from ..security import TOKEN_PREFIX, digest, new_secret

TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    """Who an API request comes from: the user and the token they used."""

    user: User
    token_id: int


async def issue_token(
    session: AsyncSession, *, user_id: int, name: str, expires_in_days: int | None
) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is shown once and never stored."""
    secret = new_secret(TOKEN_PREFIX)
    now = utcnow()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    token = ApiToken(
        user_id=user_id,
        name=name,
        token_digest=digest(secret),
        created_at=now,
        expires_at=expires_at,
    )
    await begin_write(session)
    session.add(token)
    await session.flush()
    return token, secret


async def authenticate_token(session: AsyncSession, *, secret: str) -> Caller | None:
    """The active, unexpired token with this secret and its user, in one indexed query."""
    now = utcnow()
    row = (
        await session.execute(
            select(User, ApiToken.id, ApiToken.last_used_at)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(
                ApiToken.token_digest == digest(secret),
                User.is_active.is_(True),
                or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            )
        )
    ).first()
    if row is None:
        return None
    user, token_id, last_used_at = row
    if last_used_at is None or now - last_used_at >= TOUCH_INTERVAL:
        await begin_write(session)
        await session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
        await session.commit()
    return Caller(user=user, token_id=token_id)


async def list_tokens(session: AsyncSession, *, user_id: int) -> list[ApiToken]:
    result = await session.scalars(
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
    )
    return list(result)


async def revoke_token(session: AsyncSession, *, user_id: int, token_id: int) -> bool:
    """Delete one of the user's own tokens; False when there is no such token of theirs."""
    await begin_write(session)
    result = await session.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def revoke_all_tokens(session: AsyncSession, *, user_id: int) -> None:
    await begin_write(session)
    await session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
