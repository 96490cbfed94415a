"""What people would pick instead: GET /api/notes in FastAPI, written the way its documentation teaches.

An `AsyncSession` per request from a yield dependency (`async_sessionmaker`, aiosqlite), bearer-token
auth as a dependency (`HTTPBearer`; the SHA-256 digest of the token joined to its user in one ORM
query, the token unexpired and the user active, 401 otherwise), the user's notes as ORM objects
turned into JSON by a pydantic `response_model`, served by uvicorn with 2 workers, uvloop and
httptools, and its default access log (the service writes one access line per request too).

It is written "by the docs" on purpose, not tuned: the question it answers is what the obvious modern
choice serves on this machine, not how fast FastAPI can be made to go. Its tables are the service's
(users, notes, api_tokens keeping only the token's digest) so that seed.py writes into them the very
rows it writes for the service; like the original, it has an index on `notes.author_id`, as anyone
listing notes by author would add. It returns the 20-note reader's whole list, pinned first, newest
first, with the service's NoteOut fields (datetimes come back naive from SQLite, so they carry no
UTC offset). The database file comes from `BENCH_FASTAPI_DATABASE`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, create_engine, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

DATABASE_VARIABLE = "BENCH_FASTAPI_DATABASE"
PAGE_SIZE = 20


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    username_key: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    tags: Mapped[str] = mapped_column(Text, default="", server_default="")  # as the service stores them


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    content: str
    is_pinned: bool
    created_at: datetime
    updated_at: datetime
    version: int
    tags: list[str]

    @field_validator("tags", mode="before")
    @classmethod
    def split_tags(cls, value: object) -> object:
        """One blank-separated string in the table, a list in the answer (as the service's)."""
        return value.split() if isinstance(value, str) else value


engine = create_async_engine(f"sqlite+aiosqlite:///{os.environ.get(DATABASE_VARIABLE, 'notes.db')}")
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


async def get_session() -> AsyncIterator[AsyncSession]:
    async with SessionLocal() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
bearer_scheme = HTTPBearer()


async def get_current_user(
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(bearer_scheme)], session: SessionDep
) -> User:
    digest = hashlib.sha256(credentials.credentials.encode()).hexdigest()
    user = await session.scalar(
        select(User)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_digest == digest,
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > utcnow()),
            User.is_active.is_(True),
        )
    )
    if user is None:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Invalid token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    yield
    await engine.dispose()


app = FastAPI(lifespan=lifespan)


@app.get("/api/notes", response_model=list[NoteOut])
async def read_notes(user: CurrentUser, session: SessionDep) -> Sequence[Note]:
    notes = await session.scalars(
        select(Note)
        .where(Note.author_id == user.id)
        .order_by(Note.is_pinned.desc(), Note.created_at.desc())
        .limit(PAGE_SIZE)
    )
    return notes.all()


def create_schema(database_path: str) -> None:
    """Create the tables in a new SQLite file (the seeder fills them), as `create_all` at startup would."""
    setup = create_engine(f"sqlite:///{database_path}")
    Base.metadata.create_all(setup)
    setup.dispose()
