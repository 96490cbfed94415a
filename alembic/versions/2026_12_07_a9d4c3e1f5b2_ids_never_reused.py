"""Ids are never given twice (SPEC §1): every SQLite table with an id gets AUTOINCREMENT.

Without it SQLite gives the highest id out again once its row is deleted: a note deleted forever
came back as the next note's id, and a stale `If-Match` or change-feed entry named the new note.
SQLite can only add AUTOINCREMENT by copying a table, so each is rebuilt (alembic's batch copy,
keeping every id) with foreign keys off (alembic/env.py: dropping `users` with them on would cascade
to every note); the triggers of `notes` (its search index) are made again after. PostgreSQL's
sequences never go back: nothing to do there.

Revision ID: a9d4c3e1f5b2
Revises: 5d2c8e41a7b3
Create Date: 2026-12-07 19:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a9d4c3e1f5b2"
down_revision: str | None = "5d2c8e41a7b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = (
    "users", "notes", "auth_sessions", "api_tokens", "recovery_codes", "pending_sign_ins",
    "link_tokens", "mail_outbox",
)  # fmt: skip


def _rebuild(autoincrement: bool) -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    connection = op.get_bind()
    triggers = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'notes'"
    ).scalars().all()
    assert not connection.exec_driver_sql("PRAGMA foreign_keys").scalar(), "see alembic/env.py"
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
    for trigger in triggers:
        connection.exec_driver_sql(trigger)


def upgrade() -> None:
    _rebuild(autoincrement=True)


def downgrade() -> None:
    _rebuild(autoincrement=False)
