"""Search: the SQLite full-text indexes hold live notes only, and titles get an index of their own.

A search page reads the newest matches straight from the index and stops after a page (see
services/search.py); a trashed note among them would leave the page short. So the triggers now keep a
note indexed exactly while `deleted_at` is NULL: trashing takes it out, restoring puts it back, an
edit re-indexes a live note only, and deleting a trashed note has nothing to remove. The upgrade takes
the notes already in the trash out of `notes_fts`.

Title matches rank first. In `notes_fts` a word's postings cover title and content alike, so finding
the few notes with the word in the title meant reading every note with the word anywhere; the
contentless `notes_title_fts(title, author)` has postings for titles only, so that half of a page
reads about a page of postings. PostgreSQL is unchanged (an expression index; the query filters the
trash and sorts the author's matches).

Revision ID: 3b7d0e6a91c2
Revises: fc9fcd85f2d1
Create Date: 2026-11-30 02:10:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3b7d0e6a91c2"
down_revision: str | None = "fc9fcd85f2d1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = ("notes_fts_insert", "notes_fts_delete", "notes_fts_update")
TITLES = (
    "CREATE VIRTUAL TABLE notes_title_fts USING fts5(title, author, content='', "
    "tokenize='unicode61 remove_diacritics 0')"
)
# A contentless FTS5 table forgets a row only when told the values it was indexed with.
REMOVE_OLD = (
    "INSERT INTO notes_fts(notes_fts, rowid, title, content, author) "
    "VALUES ('delete', old.id, old.title, old.content, 'a' || old.author_id);"
)
ADD_NEW = (
    "INSERT INTO notes_fts(rowid, title, content, author) "
    "VALUES (new.id, new.title, new.content, 'a' || new.author_id);"
)
REMOVE_OLD_TITLE = (
    "INSERT INTO notes_title_fts(notes_title_fts, rowid, title, author) "
    "VALUES ('delete', old.id, old.title, 'a' || old.author_id);"
)
ADD_NEW_TITLE = (
    "INSERT INTO notes_title_fts(rowid, title, author) VALUES (new.id, new.title, 'a' || new.author_id);"
)
# The same four, as statements that act only for a live row (within one trigger body).
REMOVE_OLD_IF_LIVE = (
    "INSERT INTO notes_fts(notes_fts, rowid, title, content, author) "
    "SELECT 'delete', old.id, old.title, old.content, 'a' || old.author_id WHERE old.deleted_at IS NULL; "
    "INSERT INTO notes_title_fts(notes_title_fts, rowid, title, author) "
    "SELECT 'delete', old.id, old.title, 'a' || old.author_id WHERE old.deleted_at IS NULL;"
)
ADD_NEW_IF_LIVE = (
    "INSERT INTO notes_fts(rowid, title, content, author) "
    "SELECT new.id, new.title, new.content, 'a' || new.author_id WHERE new.deleted_at IS NULL; "
    "INSERT INTO notes_title_fts(rowid, title, author) "
    "SELECT new.id, new.title, 'a' || new.author_id WHERE new.deleted_at IS NULL;"
)
LIVE_ONLY = [
    "CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes WHEN new.deleted_at IS NULL "
    f"BEGIN {ADD_NEW} {ADD_NEW_TITLE} END",
    "CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes WHEN old.deleted_at IS NULL "
    f"BEGIN {REMOVE_OLD} {REMOVE_OLD_TITLE} END",
    # One trigger, so the old entry is surely removed before the new one is added (out if it was in,
    # in if it is live now): an edit, a trashing and a restore alike.
    "CREATE TRIGGER notes_fts_update AFTER UPDATE OF title, content, deleted_at ON notes "
    f"BEGIN {REMOVE_OLD_IF_LIVE} {ADD_NEW_IF_LIVE} END",
]
EVERY_NOTE = [  # the previous revision's triggers
    f"CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN {ADD_NEW} END",
    f"CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN {REMOVE_OLD} END",
    "CREATE TRIGGER notes_fts_update AFTER UPDATE OF title, content ON notes "
    f"BEGIN {REMOVE_OLD} {ADD_NEW} END",
]
TRASHED_ROWS = "SELECT {command}id, title, content, 'a' || author_id FROM notes WHERE deleted_at IS NOT NULL"


def _drop_triggers() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    _drop_triggers()
    op.execute(
        "INSERT INTO notes_fts(notes_fts, rowid, title, content, author) "
        + TRASHED_ROWS.format(command="'delete', ")
    )
    op.execute(TITLES)
    op.execute(
        "INSERT INTO notes_title_fts(rowid, title, author) "
        "SELECT id, title, 'a' || author_id FROM notes WHERE deleted_at IS NULL"
    )
    # One segment instead of the many a bulk build leaves: a prefix query visits each one.
    op.execute("INSERT INTO notes_title_fts(notes_title_fts) VALUES ('optimize')")
    for statement in LIVE_ONLY:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    _drop_triggers()
    op.execute("DROP TABLE notes_title_fts")
    op.execute("INSERT INTO notes_fts(rowid, title, content, author) " + TRASHED_ROWS.format(command=""))
    for statement in EVERY_NOTE:
        op.execute(statement)
