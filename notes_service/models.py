"""Tables: users, their notes, their browser sessions and their API tokens.

Only declarations live here: columns, indexes and constraints. Queries are in `services/`, password
logic in `security.py`. Session ids and token secrets are never stored, only their SHA-256 digests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, false, text, true
from sqlalchemy.orm import Mapped, mapped_column

from .data.types import Base, UTCDateTime, utcnow

DIGEST_LENGTH = 64  # hex SHA-256


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    # The lower-cased username, so that "Alice" and "alice" cannot both register.
    username_key: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # 1 when written, +1 on every change: the ETag, and the "WHERE version = :v" of a safe edit.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # Set while the note is in the trash; trashed notes are in no list, count, search or note URL.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (
        # Serves "this author's notes, pinned first, newest first" and its keyset pages.
        Index("ix_notes_author_order", "author_id", "is_pinned", "created_at", "id"),
        # The trash page (newest deletion first) and the purge of old trash.
        Index("ix_notes_author_deleted", "author_id", "deleted_at"),
        Index("ix_notes_deleted_at", "deleted_at"),
    )


class AuthSession(Base):
    """A browser login; the quart-auth cookie carries the secret whose digest is `id_digest`."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    remember: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    user_agent: Mapped[str] = mapped_column(String(255), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiToken(Base):
    """A named bearer token; only the SHA-256 digest of its secret is kept."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


# The full-text index is made by its migration in SQL the models cannot declare (an FTS5 table and
# its triggers on SQLite, an expression GIN index on PostgreSQL); autogenerate leaves it alone.
SEARCH_INDEX_NAMES = ("notes_fts", "ix_notes_search")


def declared_in_models(name: str | None, _type: str, _parents: Any) -> bool:
    """Alembic's `include_name`: False for the search index's own objects."""
    return name is None or not name.startswith(SEARCH_INDEX_NAMES)
