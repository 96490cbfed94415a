"""Notes: `version` (conflict-safe edits), `deleted_at` (trash) and the full-text index.

SQLite gets a contentless FTS5 table of each note's title, content and author (a token `a<id>`),
kept in step by triggers, so that every write updates the index in its own transaction; with the
author in the index a search intersects the word's postings with the author's instead of reading
every note in the database that holds the word. PostgreSQL gets a GIN index on the
`tsvector` of title and content (an expression index: nothing to keep in step). Punctuation in the
text counts as a space on both (see services/search.py), so "example.com" is found by "example".
Both are built for the notes that exist at upgrade time. Accents count on both (PostgreSQL's
`simple` configuration keeps them, so FTS5 is told to keep them too): "café" does not find "cafe".

Revision ID: 7c1e5a9b2f40
Revises: 7c1e2fa0b8d4
Create Date: 2026-11-29 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "7c1e5a9b2f40"
down_revision: str | None = "7c1e2fa0b8d4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same expression as services/search.py's DOCUMENT: a query uses the index only when they agree.
PG_DOCUMENT = (
    "to_tsvector('simple'::regconfig, regexp_replace(title || ' ' || content, '[[:punct:]]+', ' ', 'g'))"
)
FTS_DELETE_OLD = (
    "INSERT INTO notes_fts(notes_fts, rowid, title, content, author) "
    "VALUES ('delete', old.id, old.title, old.content, 'a' || old.author_id);"
)
FTS_INSERT_NEW = (
    "INSERT INTO notes_fts(rowid, title, content, author) "
    "VALUES (new.id, new.title, new.content, 'a' || new.author_id);"
)
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE notes_fts USING fts5(title, content, author, content='', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN " + FTS_INSERT_NEW + " END",
    "CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN " + FTS_DELETE_OLD + " END",
    "CREATE TRIGGER notes_fts_update AFTER UPDATE OF title, content ON notes BEGIN "
    + FTS_DELETE_OLD
    + " "
    + FTS_INSERT_NEW
    + " END",
    "INSERT INTO notes_fts(rowid, title, content, author) "
    "SELECT id, title, content, 'a' || author_id FROM notes",
]


def upgrade() -> None:
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_notes_author_deleted", ["author_id", "deleted_at"], unique=False)
        batch_op.create_index("ix_notes_deleted_at", ["deleted_at"], unique=False)
    if op.get_context().dialect.name == "sqlite":
        for statement in SQLITE_FTS:
            op.execute(statement)
    else:
        op.execute(f"CREATE INDEX ix_notes_search ON notes USING gin ({PG_DOCUMENT})")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for trigger in ("notes_fts_insert", "notes_fts_delete", "notes_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS notes_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_notes_search")
    with op.batch_alter_table("notes", schema=None) as batch_op:
        batch_op.drop_index("ix_notes_deleted_at")
        batch_op.drop_index("ix_notes_author_deleted")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("version")
