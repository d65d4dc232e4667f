"""Indexes behind every lookup the workflow makes (a proposal by its ref in any case, letters by
proposal and kind, interviews, schedules, score history, conflicts and responses by proposal), so
a step's cost does not grow with the plan; on PostgreSQL, entries appended in bulk by the server.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BY_PROPOSAL = ("conflicts", "interviews", "responses", "scheduled_interviews", "score_changes")


def upgrade() -> None:
    op.create_index("ix_proposals_ref_lower", "proposals", [sa.text("lower(ref)")])
    op.create_index("ix_letters_proposal_id_kind", "letters", ["proposal_id", "kind"])
    for table in BY_PROPOSAL:
        op.create_index(op.f(f"ix_{table}_proposal_id"), table, ["proposal_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
        cursor = bind.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        # Many entries in one call (an import, a batch of moves): each appended as ogp_append_entry
        # does, in order, under the same lock.
        cursor.execute(
            f"""CREATE FUNCTION "{schema}".ogp_append_entries(p_first integer, p_bodies text[]) RETURNS integer
               LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
               DECLARE
                 i integer;
               BEGIN
                 FOR i IN 1 .. coalesce(array_length(p_bodies, 1), 0) LOOP
                   PERFORM "{schema}".ogp_append_entry(p_first + i - 1, p_bodies[i]);
                 END LOOP;
                 RETURN coalesce(array_length(p_bodies, 1), 0);
               END $$"""
        )
        cursor.execute(f'REVOKE ALL ON FUNCTION "{schema}".ogp_append_entries(integer, text[]) FROM PUBLIC')


def downgrade() -> None:  # pragma: no cover - workspaces are only ever upgraded
    raise NotImplementedError("schema 0007 cannot be downgraded")
