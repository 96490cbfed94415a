"""A security stamp on users, carried by auth sessions, API tokens and pending sign-ins (SPEC §6);
the account's count of wrong sign-in codes and its lockout (SPEC §8).

`users.security_stamp` goes up at every change of the account's security (a password change or
reset, two-factor sign-in on or off, (de)activation); a session, token or pending sign-in works
only while the stamp it was made with is still the user's. Every existing row starts at 0, the
same as its user: nothing ends at upgrade. `users.wrong_codes` and `users.codes_locked_until` count
wrong TOTP or recovery codes across `/login/2fa` and `POST /api/token`, for every worker and host.

SQLite adds the columns with ALTER TABLE (alembic's batch mode copies no table for that); the
downgrade's copies keep AUTOINCREMENT (revision a9d4c3e1f5b2).

Revision ID: a710bff1bf27
Revises: a9d4c3e1f5b2
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "a710bff1bf27"
down_revision: str | None = "a9d4c3e1f5b2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAMPED = ("users", "auth_sessions", "api_tokens", "pending_sign_ins")


def upgrade() -> None:
    for table in STAMPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("security_stamp", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wrong_codes", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("codes_locked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None, table_kwargs={"sqlite_autoincrement": True}) as batch_op:
        batch_op.drop_column("codes_locked_until")
        batch_op.drop_column("wrong_codes")
    for table in reversed(STAMPED):
        with op.batch_alter_table(
            table, schema=None, table_kwargs={"sqlite_autoincrement": True}
        ) as batch_op:
            batch_op.drop_column("security_stamp")
