"""The change feed (SPEC §10): change numbers, deletion markers and kept Idempotency-Key answers.

`users.change_seq` counts each user's changes to notes, `notes.change_seq` is the number of a
note's latest change, `note_tombstones` marks notes deleted for good (with their own numbers) and
`users.tombstones_purged_seq` is the highest number of a marker purged since. Existing notes are
numbered 1..n per user in the order they were last written (`updated_at`, then id), and each user's
counter starts at its n. `idempotency_keys` keeps the first answer to a `POST /api/notes` per key.

Plain ADD/DROP COLUMN: a batch copy of `notes` would drop the table and its FTS5 triggers with it,
and one of `users` would cascade to every note. The triggers are `AFTER UPDATE OF title, content,
deleted_at`, so numbering the notes leaves the search index alone.

Revision ID: e6b1f0c47a2d
Revises: a710bff1bf27
Create Date: 2026-12-08 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "e6b1f0c47a2d"
down_revision: str | None = "a710bff1bf27"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# UPDATE … FROM and window functions: PostgreSQL, and SQLite since 3.33.
NUMBER_NOTES = """
UPDATE notes SET change_seq = numbered.n
FROM (
    SELECT id, row_number() OVER (PARTITION BY author_id ORDER BY updated_at, id) AS n FROM notes
) AS numbered
WHERE notes.id = numbered.id
"""
COUNT_CHANGES = "UPDATE users SET change_seq = (SELECT count(*) FROM notes WHERE notes.author_id = users.id)"


def _counter() -> sa.Column[int]:
    return sa.Column("change_seq", sa.BigInteger(), server_default="0", nullable=False)


def upgrade() -> None:
    op.add_column("users", _counter())
    op.add_column(
        "users", sa.Column("tombstones_purged_seq", sa.BigInteger(), server_default="0", nullable=False)
    )
    op.add_column("notes", _counter())
    op.execute(NUMBER_NOTES)
    op.execute(COUNT_CHANGES)
    op.create_index("ix_notes_author_change", "notes", ["author_id", "change_seq"], unique=False)

    op.create_table(
        "note_tombstones",
        sa.Column("note_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_note_tombstones_author_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("note_id", name=op.f("pk_note_tombstones")),
    )
    op.create_index(
        "ix_note_tombstones_author_change", "note_tombstones", ["author_id", "change_seq"], unique=False
    )
    op.create_index("ix_note_tombstones_deleted_at", "note_tombstones", ["deleted_at"], unique=False)

    op.create_table(
        "idempotency_keys",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=2048), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_idempotency_keys_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "key", name=op.f("pk_idempotency_keys")),
    )
    op.create_index("ix_idempotency_keys_created_at", "idempotency_keys", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_created_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index("ix_note_tombstones_deleted_at", table_name="note_tombstones")
    op.drop_index("ix_note_tombstones_author_change", table_name="note_tombstones")
    op.drop_table("note_tombstones")
    op.drop_index("ix_notes_author_change", table_name="notes")
    op.drop_column("notes", "change_seq")
    op.drop_column("users", "tombstones_purged_seq")
    op.drop_column("users", "change_seq")
