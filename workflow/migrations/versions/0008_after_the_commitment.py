"""After the commitment: commitments in OGP's template with their supporting actors, milestones
and their moves, progress from both sides with its evidence, the co-creation timeline's
publication; the plan's reply deadline for referrals and the day it was submitted to OGP.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MILESTONE_STATES = ("planned", "started", "delayed", "completed", "cancelled")
BY_PARENT = (
    ("commitment_partners", "proposal_id"),
    ("milestones", "proposal_id"),
    ("milestone_moves", "milestone_id"),
    ("progress", "milestone_id"),
    ("evidence", "progress_id"),
)


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("reply_within", sa.Integer(), nullable=False, server_default="30"))
        batch.add_column(sa.Column("submitted_on", sa.Date(), nullable=True))
    op.create_table(
        "commitments",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("ogp_id", sa.String(32), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("status_quo", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("how_it_solves", sa.Text(), nullable=False),
        sa.Column("relevance", sa.JSON(), nullable=False),
        sa.Column("start_month", sa.String(7), nullable=False),
        sa.Column("end_month", sa.String(7), nullable=False),
        sa.Column("edited_by", sa.Text(), nullable=False),
        sa.Column("edited_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_commitments_proposal_id_proposals")),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_commitments")),
    )
    op.create_table(
        "commitment_partners",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("organization", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["commitments.proposal_id"], name=op.f("fk_commitment_partners_proposal_id_commitments")
        ),
        sa.ForeignKeyConstraint(["entity_id"], ["entities.id"], name=op.f("fk_commitment_partners_entity_id_entities")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commitment_partners")),
    )
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("output", sa.Text(), nullable=False),
        sa.Column("start_month", sa.String(7), nullable=False),
        sa.Column("end_month", sa.String(7), nullable=False),
        sa.Column("planned_end_month", sa.String(7), nullable=False),
        sa.Column("responsible_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(*MILESTONE_STATES, name="milestone_state", native_enum=False, create_constraint=True, length=16),
            nullable=False,
        ),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.Column("added_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_milestones_proposal_id_proposals")),
        sa.ForeignKeyConstraint(
            ["responsible_id"], ["entities.id"], name=op.f("fk_milestones_responsible_id_entities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestones")),
    )
    op.create_table(
        "milestone_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("dated", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("new_end_month", sa.String(7), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(
            ["milestone_id"], ["milestones.id"], name=op.f("fk_milestone_moves_milestone_id_milestones")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone_moves")),
    )
    op.create_table(
        "progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("milestone_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(16), nullable=False),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.ForeignKeyConstraint(["milestone_id"], ["milestones.id"], name=op.f("fk_progress_milestone_id_milestones")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress")),
    )
    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("progress_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["progress_id"], ["progress.id"], name=op.f("fk_evidence_progress_id_progress")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
    )
    op.create_table(
        "timeline_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=False),
        sa.Column("co_creation_starts", sa.Date(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeline_publications")),
    )

    # Every lookup a step makes goes through an index (as 0007 did for the proposal's rows).
    for table, column in BY_PARENT:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column])


def downgrade() -> None:  # pragma: no cover - workspaces are only ever upgraded
    raise NotImplementedError("schema 0008 cannot be downgraded")
