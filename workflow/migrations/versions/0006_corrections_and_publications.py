"""Corrections and publications: a proposal may be discarded (a new final state), letters voided
and replaced, interviews called off, scores withdrawn; English letters may have their own
reference prefix; publications of the national repository are kept.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

STATES = ("submitted", "interviewed", "shortlisted", "referred", "committed", "rejected", "withdrawn", "discarded")


def upgrade() -> None:
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint(op.f("ck_proposals_state"), type_="check")
        batch.create_check_constraint("state", sa.column("state").in_(STATES))
    with op.batch_alter_table("letters") as batch:
        batch.add_column(sa.Column("void_reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("replaces", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("letter_prefix_en", sa.String(64), nullable=False, server_default=""))
    with op.batch_alter_table("scheduled_interviews") as batch:
        batch.add_column(sa.Column("cancelled_reason", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("score_changes") as batch:
        batch.alter_column("new_value", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("head_seq", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("reasoned_response", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_publications")),
    )


def downgrade() -> None:  # pragma: no cover - workspaces are only ever upgraded
    raise NotImplementedError("schema 0006 cannot be downgraded")
