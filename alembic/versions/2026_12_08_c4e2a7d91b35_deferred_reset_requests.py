"""Reset requests the mail sender resolves: the same row for a known and an unknown address.

`POST /password/forgot` used to insert a link and a message only when the address had an account,
and that extra work made the known path measurably slower (issue #20, item 9). Now every request
queues one outbox row of the same shape: `pending_link` names the link to make when the message is
sent (`password_reset`), and `security_stamp` is the stamp of the active account that had the
address then (NULL when none had). The sender makes the link and the body, or drops the row.

SQLite adds the columns with ALTER TABLE; the downgrade's copy keeps AUTOINCREMENT (a9d4c3e1f5b2).

Revision ID: c4e2a7d91b35
Revises: e6b1f0c47a2d
Create Date: 2026-12-08 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "c4e2a7d91b35"
down_revision: str | None = "e6b1f0c47a2d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mail_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_link", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("security_stamp", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM mail_outbox WHERE pending_link IS NOT NULL")  # no body to send without it
    with op.batch_alter_table(
        "mail_outbox", schema=None, table_kwargs={"sqlite_autoincrement": True}
    ) as batch_op:
        batch_op.drop_column("security_stamp")
        batch_op.drop_column("pending_link")
