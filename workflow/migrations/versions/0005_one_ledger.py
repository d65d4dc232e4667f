"""One ledger: entries for every recorded step (a body the hash covers; steps about no proposal),
letters' content digests, member logins, late conflicts, decided standings; on PostgreSQL the
server appends entries itself and refuses score changes after the decision.

After this revision `ogp init` appends a checkpoint entry holding the record as it stood
(workflow/db.py), so every later change replays.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from documents.package import read_package

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = [
    """CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
       BEGIN SELECT RAISE(ABORT, 'audit entries are append-only: DELETE refused'); END""",
]


def _postgresql_functions(schema: str) -> list[str]:
    """Server-side functions with a fixed search_path and schema-qualified names, so no object a
    caller creates (a temporary table or function of the same name) can stand in for ours."""
    q = f'"{schema}"'
    return [
        "DROP TRIGGER IF EXISTS audit_entries_db_role ON audit_entries",
        "DROP FUNCTION IF EXISTS audit_entries_db_role()",
        "ALTER FUNCTION audit_entries_append_only() SET search_path = pg_catalog, pg_temp",
        # The one way to append an entry: the server takes the record's lock, numbers the entry,
        # stamps the time and the login, chains and hashes it (the formula of workflow/audit.py's
        # entry_hash). A member's login may append only the steps a member takes.
        f"""CREATE FUNCTION {q}.ogp_append_entry(p_seq integer, p_body text) RETURNS text
           LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
           DECLARE
             v_body jsonb := p_body::jsonb;
             v_last record;
             v_prev text;
             v_at text := to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
             v_role text := session_user;
             v_hash text;
           BEGIN
             PERFORM pg_catalog.pg_advisory_xact_lock(7274001);
             IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'ogp_member')
                AND pg_catalog.pg_has_role(session_user, 'ogp_member', 'MEMBER')
                AND NOT pg_catalog.pg_has_role(session_user, 'ogp_coordinator', 'MEMBER')
                AND NOT pg_catalog.pg_has_role(session_user, (SELECT tableowner FROM pg_catalog.pg_tables
                     WHERE schemaname = '{schema}' AND tablename = 'audit_entries'), 'MEMBER')
                AND v_body->>'step' NOT IN ('score', 'declare_conflict') THEN
               RAISE EXCEPTION 'permission denied: a member''s login may not record %', v_body->>'step'
                 USING ERRCODE = '42501';
             END IF;
             SELECT seq, hash INTO v_last FROM {q}.audit_entries ORDER BY seq DESC LIMIT 1;
             IF coalesce(v_last.seq, 0) + 1 <> p_seq THEN
               RAISE EXCEPTION 'audit entry % would not follow entry %', p_seq, coalesce(v_last.seq, 0)
                 USING ERRCODE = '40001';
             END IF;
             v_prev := coalesce(v_last.hash, repeat('0', 64));
             v_hash := encode(sha256(convert_to(
                 'ogp-audit/2' || E'\\n' || p_seq || E'\\n' || v_at || E'\\n' || v_role || E'\\n' || v_prev
                 || E'\\n' || encode(sha256(convert_to(p_body, 'UTF8')), 'hex'), 'UTF8')), 'hex');
             INSERT INTO {q}.audit_entries (seq, at, actor, proposal_id, proposal_ref, event, from_state,
                 to_state, reason, letters, prev_hash, hash, db_role, body)
             VALUES (p_seq, v_at, v_body->>'actor', (v_body->'proposal'->>'id')::integer,
                 v_body->'proposal'->>'ref', v_body->>'step', v_body->>'from', v_body->>'to',
                 coalesce(v_body->>'reason', ''), coalesce(v_body->'letters', '[]')::json, v_prev, v_hash,
                 v_role, p_body);
             RETURN v_hash;
           END $$""",
        f"REVOKE ALL ON FUNCTION {q}.ogp_append_entry(integer, text) FROM PUBLIC",
        # Scores are final once a proposal leaves `interviewed`, for every role, whatever the client.
        f"""CREATE FUNCTION {q}.ogp_scores_while_interviewed() RETURNS trigger
           LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
           DECLARE
             v_state text;
           BEGIN
             SELECT state INTO v_state FROM {q}.proposals
              WHERE id = CASE WHEN TG_OP = 'DELETE' THEN OLD.proposal_id ELSE NEW.proposal_id END;
             IF v_state IS DISTINCT FROM 'interviewed' OR (TG_OP = 'UPDATE'
                 AND OLD.proposal_id IS DISTINCT FROM NEW.proposal_id) THEN
               RAISE EXCEPTION 'scores are final once a proposal leaves interviewed (it is %)', v_state
                 USING ERRCODE = '42501';
             END IF;
             RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
           END $$""",
        f"""CREATE TRIGGER scores_while_interviewed BEFORE INSERT OR UPDATE OR DELETE ON {q}.scores
           FOR EACH ROW EXECUTE FUNCTION {q}.ogp_scores_while_interviewed()""",
    ]


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:  # SQLite rebuilds the table below; its triggers go with it and are made again after
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_entries_no_delete")
    with op.batch_alter_table("audit_entries") as batch:
        batch.alter_column("proposal_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("proposal_ref", existing_type=sa.String(32), nullable=True)
        batch.alter_column("to_state", existing_type=sa.String(16), nullable=True)
        batch.add_column(sa.Column("body", sa.Text(), nullable=True))
        batch.create_index(op.f("ix_audit_entries_proposal_id"), ["proposal_id"])
    if sqlite:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)

    with op.batch_alter_table("letters") as batch:
        batch.add_column(sa.Column("digest", sa.String(64), nullable=True))
    letters = sa.table("letters", sa.column("id", sa.Integer()), sa.column("content", sa.LargeBinary()),
                       sa.column("digest", sa.String(64)))  # fmt: skip
    for row in bind.execute(sa.select(letters.c.id, letters.c.content)).all():
        bind.execute(
            letters.update().where(letters.c.id == row.id).values(digest=read_package(bytes(row.content)).digest)
        )
    with op.batch_alter_table("letters") as batch:
        batch.alter_column("digest", existing_type=sa.String(64), nullable=False)

    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("login", sa.String(63), nullable=True))
        batch.create_unique_constraint(op.f("uq_members_login"), ["login"])
    with op.batch_alter_table("conflicts") as batch:
        batch.add_column(sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false()))

    op.create_table(
        "decided_standings",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("ranked", sa.Integer(), nullable=False),
        sa.Column("total", sa.String(64), nullable=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("scorers", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_decided_standings_proposal_id_proposals")
        ),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_decided_standings")),
    )
    if not sqlite:
        schema = bind.execute(sa.text("SELECT current_schema()")).scalar_one()
        cursor = bind.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        for statement in _postgresql_functions(schema):
            cursor.execute(statement)  # without parameters: ':' and '%' in PL/pgSQL are not placeholders


def downgrade() -> None:  # pragma: no cover - workspaces are only ever upgraded
    raise NotImplementedError("schema 0005 cannot be downgraded: entries after it have bodies older code cannot read")
