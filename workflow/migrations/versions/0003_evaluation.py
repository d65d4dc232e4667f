"""Evaluation: working group members, meetings, interview answers and schedule, scores and their
history, conflicts of interest, ministries' responses, the shortlist quorum.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"))


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("quorum", sa.Integer(), nullable=True))
    with op.batch_alter_table("interviews") as batch:
        for column in ("needs", "plans", "solves"):
            batch.add_column(sa.Column(column, sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("organization", sa.Text(), nullable=False),
        sa.Column("sector", sa.String(16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("name", name=op.f("uq_members_name")),
    )
    op.create_table(
        "meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("place", sa.Text(), nullable=False),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meetings")),
    )
    op.create_table(
        "meeting_members",
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _fk("meeting_members", "meeting_id", "meetings"),
        _fk("meeting_members", "member_id", "members"),
        sa.PrimaryKeyConstraint("meeting_id", "member_id", name=op.f("pk_meeting_members")),
    )
    op.create_table(
        "interview_members",
        sa.Column("interview_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        _fk("interview_members", "interview_id", "interviews"),
        _fk("interview_members", "member_id", "members"),
        sa.PrimaryKeyConstraint("interview_id", "member_id", name=op.f("pk_interview_members")),
    )
    op.create_table(
        "scheduled_interviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("platform", sa.Text(), nullable=False),
        sa.Column("scheduled_by", sa.Text(), nullable=False),
        sa.Column("scheduled_at", sa.String(32), nullable=False),
        _fk("scheduled_interviews", "proposal_id", "proposals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_interviews")),
    )
    op.create_table(
        "scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        _fk("scores", "proposal_id", "proposals"),
        _fk("scores", "member_id", "members"),
        _fk("scores", "criterion_id", "criteria"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scores")),
        sa.UniqueConstraint("proposal_id", "member_id", "criterion_id", name=op.f("uq_scores_proposal_id")),
    )
    op.create_table(
        "score_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("criterion_id", sa.Integer(), nullable=False),
        sa.Column("old_value", sa.Integer(), nullable=True),
        sa.Column("new_value", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        _fk("score_changes", "proposal_id", "proposals"),
        _fk("score_changes", "member_id", "members"),
        _fk("score_changes", "criterion_id", "criteria"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_changes")),
    )
    op.create_table(
        "conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("declared_at", sa.String(32), nullable=False),
        sa.Column("declared_by", sa.Text(), nullable=False),
        _fk("conflicts", "member_id", "members"),
        _fk("conflicts", "proposal_id", "proposals"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflicts")),
        sa.UniqueConstraint("member_id", "proposal_id", name=op.f("uq_conflicts_member_id")),
    )
    op.create_table(
        "responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=False),
        sa.Column("agreed", sa.Boolean(), nullable=False),
        sa.Column("responded_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        _fk("responses", "proposal_id", "proposals"),
        _fk("responses", "entity_id", "entities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_responses")),
    )


def downgrade() -> None:
    for table in (
        "responses", "conflicts", "score_changes", "scores", "scheduled_interviews",
        "interview_members", "meeting_members", "meetings", "members",
    ):  # fmt: skip
        op.drop_table(table)
    with op.batch_alter_table("interviews") as batch:
        for column in ("solves", "plans", "needs"):
            batch.drop_column(column)
    with op.batch_alter_table("plans") as batch:
        batch.drop_column("quorum")
