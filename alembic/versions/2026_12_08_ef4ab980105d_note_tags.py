"""Tags (SPEC §11): a note's tags in `notes.tags`, and `note_tags` to find an author's notes by tag.

`notes.tags` is what every read of a note shows (space-separated, lowercase, in the order given);
`note_tags` (note, tag, author) is the index behind `?tag=`, `tag:` in a search and the counts beside
the list, keyed (author_id, tag, note_id) on both databases. The services write both in the note's
own write block. `note_tags` has no id of its own (its key is the note's id and the tag), so no
AUTOINCREMENT is needed for SPEC §1's "never reused"; its rows go with their note (cascade).

Plain ADD COLUMN: a batch copy of `notes` would drop the table and its FTS5 triggers with it. The
triggers are `AFTER UPDATE OF title, content, deleted_at`, so a change of tags alone leaves the
search index alone. Existing notes have no tags.

Revision ID: ef4ab980105d
Revises: c4e2a7d91b35
Create Date: 2026-12-08 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "ef4ab980105d"
down_revision: str | None = "c4e2a7d91b35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("notes", sa.Column("tags", sa.Text(), server_default="", nullable=False))
    op.create_table(
        "note_tags",
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_note_tags_author_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["note_id"], ["notes.id"], name=op.f("fk_note_tags_note_id_notes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("note_id", "tag", name=op.f("pk_note_tags")),
    )
    op.create_index("ix_note_tags_author_tag", "note_tags", ["author_id", "tag", "note_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_note_tags_author_tag", table_name="note_tags")
    op.drop_table("note_tags")
    op.drop_column("notes", "tags")
