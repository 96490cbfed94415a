"""Notes keep their HTML: the content as the note page shows it, made when the note is written.

Two nullable columns; notes written before this revision have none and are rendered when shown
until they are next edited or `notes-service render-notes` fills them in.

Revision ID: 5d2c8e41a7b3
Revises: 3b7d0e6a91c2
Create Date: 2026-11-30 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "5d2c8e41a7b3"
down_revision: str | None = "3b7d0e6a91c2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN: a batch copy of `notes` would drop the table, its FTS5 triggers with it.
    op.add_column("notes", sa.Column("content_html", sa.Text(), nullable=True))
    op.add_column("notes", sa.Column("html_renderer", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("notes", "html_renderer")
    op.drop_column("notes", "content_html")
