"""Tables: users, their notes (and the markers of notes deleted for good), browser sessions, API
tokens, second factors, emailed links, the mail outbox and the answers kept for Idempotency-Keys.

Only declarations live here: columns, indexes and constraints. Queries are in `services/`, password
logic in `services/security.py`. Session ids, token secrets and recovery codes are never stored, only their
SHA-256 digests; TOTP secrets only encrypted (`services/totp.py`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, column_property, mapped_column

from .types import SQLITE_IDS, Base, TagList, UTCDateTime, utcnow

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
    # Two-factor sign-in (SPEC §8): the TOTP secret, encrypted with a key derived from the app's
    # secret key (never the base32 text); null while two-factor sign-in is off.
    totp_secret: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The last RFC 6238 time step whose code was accepted: a later code must be of a later step, so a
    # code seen over a shoulder cannot be used again.
    totp_last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)
    two_factor: Mapped[bool] = column_property(totp_secret.is_not(None).label("two_factor"))
    # When the owner proved they read mail at `email` (a confirmation or reset link); None: not yet.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Whether the address was ever confirmed (UserOut.email_verified; the time is kept above).
    email_verified: Mapped[bool] = column_property(email_verified_at.is_not(None).label("email_verified"))
    # One more at every change of the account's security: a password change or reset, two-factor
    # sign-in on or off, (de)activation. Each auth session, API token and pending sign-in carries
    # the stamp of its making and works only while it is the user's (SPEC §6): a sign-in made
    # while such a change was in flight is dead at its first use.
    security_stamp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Wrong sign-in codes (TOTP or recovery, at /login/2fa or POST /api/token) since the last right
    # one, and until when the account takes no code after too many (SPEC §8). Here, not in the
    # throttle's counters: one count for every worker and host, with or without Redis, and the
    # owner's mail is queued in the same transaction as the lockout.
    wrong_codes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    codes_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The change feed (SPEC §10, services/changes.py): the number of this user's latest change to a
    # note, taken (+1) in the write block of each change; and the highest number of a deletion
    # marker purged since, below which a cursor can no longer be followed.
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    tombstones_purged_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


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
    # The content as the note page shows it (sanitized HTML), made when the content is written so
    # that a page view does not parse and sanitize it again, and the renderer that made it
    # (`render.RENDERER`); a copy that is missing or from another renderer is not used.
    content_html: Mapped[str | None] = mapped_column(Text, nullable=True)
    html_renderer: Mapped[str | None] = mapped_column(String(16), nullable=True)
    # The author's `change_seq` at this note's latest change: the note's place in the change feed.
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # Its tags (SPEC §11), lowercase, in the order given; `note_tags` indexes them.
    tags: Mapped[list[str]] = mapped_column(TagList, default=list, server_default="")

    __table_args__ = (
        # The change feed: this author's notes changed after a number, in the order they changed.
        Index("ix_notes_author_change", "author_id", "change_seq"),
        # Serves "this author's notes, pinned first, newest first" and its keyset pages.
        Index("ix_notes_author_order", "author_id", "is_pinned", "created_at", "id"),
        # The trash page (newest deletion first) and the purge of old trash.
        Index("ix_notes_author_deleted", "author_id", "deleted_at"),
        Index("ix_notes_deleted_at", "deleted_at"),
        SQLITE_IDS,
    )


class NoteTag(Base):
    """One tag of one note: the index behind `?tag=`, `tag:` in a search and the tag counts (the
    note's own `tags` column is what is shown). Written with the note, in its write block; gone
    with it (cascade). No id of its own, so nothing to be given twice."""

    __tablename__ = "note_tags"

    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The note's author, repeated here so a tag's notes are found without reading other users'.
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))

    __table_args__ = (
        # An author's notes with a tag (newest id first), and the counts of the author's tags.
        Index("ix_note_tags_author_tag", "author_id", "tag", "note_id"),
    )


class NoteTombstone(Base):
    """A note deleted for good, kept as a marker in its author's change feed until it is
    NOTES_TOMBSTONE_DAYS old. Keyed by the note's id: a note is deleted for good once, and its id
    is never given again (SPEC §1)."""

    __tablename__ = "note_tombstones"

    note_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    change_seq: Mapped[int] = mapped_column(BigInteger)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        Index("ix_note_tombstones_author_change", "author_id", "change_seq"),
        Index("ix_note_tombstones_deleted_at", "deleted_at"),  # housekeeping's purge of old markers
    )


class IdempotencyKey(Base):
    """The first answer to a `POST /api/notes` sent with an `Idempotency-Key`, kept 24 hours so that
    a retry gets it again instead of making a second note."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    # SHA-256 of the request it answered: the same key with another request is refused, not replayed.
    request_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_idempotency_keys_created_at", "created_at"),)


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
    # The user's `security_stamp` when it was made: another one means it has ended.
    security_stamp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


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
    # The user's `security_stamp` when it was issued: another one means it is revoked.
    security_stamp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class RecoveryCode(Base):
    """A one-time recovery code of a user with two-factor sign-in; deleted when used or replaced."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    code_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))

    __table_args__ = (UniqueConstraint("user_id", "code_digest"), SQLITE_IDS)  # also the look-up index


class PendingSignIn(Base):
    """A correct password awaiting its second factor; the browser's signed session cookie carries the
    secret whose digest is `id_digest`. It is no sign-in: nothing accepts it but `/login/2fa`."""

    __tablename__ = "pending_sign_ins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # SHA-256 of the password hash the password matched: a password change in between voids it.
    password_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH))
    # The user's `security_stamp` at the password step: any change of the account's security
    # in between (deactivation, say, even if undone) voids it.
    security_stamp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    remember: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    next_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    # Counted here, not in the cookie: an older copy of the cookie must not reset the count.
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The full-text index is made by its migration in SQL the models cannot declare (FTS5 tables and
# its triggers on SQLite, an expression GIN index on PostgreSQL); autogenerate leaves it alone.
SEARCH_INDEX_NAMES = ("notes_fts", "notes_title_fts", "notes_prefix_fts", "ix_notes_search")


def declared_in_models(name: str | None, _type: str, _parents: Any) -> bool:
    """Alembic's `include_name`: False for the search index's own objects."""
    return name is None or not name.startswith(SEARCH_INDEX_NAMES)


class LinkToken(Base):
    """An emailed one-time link (password reset, email confirmation); only its digest is kept.

    `email` is the address the link was sent to: a link stops working once the account's email is
    no longer it (reset), or confirms exactly that address (confirmation, and so an email change).
    """

    __tablename__ = "link_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_digest: Mapped[str] = mapped_column(String(DIGEST_LENGTH), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """A message waiting to be sent, written in the transaction of the change that causes it.

    The sender claims a due row by moving `next_attempt_at` a lease ahead (so a worker that dies
    mid-send leaves it to be retried), deletes it once delivered or given up, and otherwise moves
    `next_attempt_at` to the next retry. A row with `pending_link` is a request whose link (and so
    its body) the sender makes when it sends it, for the active account that has `recipient` as its
    address and still the `security_stamp` it had when asked, if any (a reset request: the same
    row whether or not the address has an account, so the request's timing tells nothing).
    """

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True
    )
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
    pending_link: Mapped[str | None] = mapped_column(String(32), nullable=True)
    security_stamp: Mapped[int | None] = mapped_column(Integer, nullable=True)
