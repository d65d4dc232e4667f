"""The database role behind each audit entry (PostgreSQL: set by the database itself).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# On PostgreSQL the server, not the client, says who wrote an entry: whatever a client sends is
# replaced by current_user, and a client that lies gets an entry whose hash no longer verifies.
# The workspace's owner is trusted as it is anyway (it could drop the trigger): 'ogp db copy',
# which it runs, keeps each copied entry's role as recorded.
POSTGRESQL_ROLE_TRIGGER = [
    """CREATE FUNCTION audit_entries_db_role() RETURNS trigger AS $$
       DECLARE
         owner name;
       BEGIN
         SELECT tableowner INTO owner FROM pg_tables
          WHERE tablename = TG_TABLE_NAME AND schemaname = TG_TABLE_SCHEMA;
         IF NOT pg_has_role(current_user, owner, 'USAGE') THEN
           NEW.db_role := current_user;
         END IF;
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_entries_db_role BEFORE INSERT ON audit_entries
       FOR EACH ROW EXECUTE FUNCTION audit_entries_db_role()""",
]


def upgrade() -> None:
    with op.batch_alter_table("audit_entries") as batch:
        batch.add_column(sa.Column("db_role", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_ROLE_TRIGGER:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_entries_db_role ON audit_entries")
        op.execute("DROP FUNCTION IF EXISTS audit_entries_db_role()")
    with op.batch_alter_table("audit_entries") as batch:
        batch.drop_column("db_role")
