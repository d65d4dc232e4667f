"""Official letters: letterhead logo, digits, editable templates, copies, honorifics, languages, lead body.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DEFAULT_TITLE_EN = "Fifth National Action Plan of the Open Government Partnership"
DEFAULT_ISSUER_EN = "Ministry of Planning and International Cooperation – Open Government Unit"
DEFAULT_SIGNATORY_TITLE_EN = "Minister of Planning and International Cooperation"


def upgrade() -> None:
    with op.batch_alter_table("plans") as batch:
        batch.add_column(sa.Column("title_en", sa.Text(), nullable=False, server_default=DEFAULT_TITLE_EN))
        batch.add_column(sa.Column("issuer_en", sa.Text(), nullable=False, server_default=DEFAULT_ISSUER_EN))
        batch.add_column(
            sa.Column("signatory_title_en", sa.Text(), nullable=False, server_default=DEFAULT_SIGNATORY_TITLE_EN)
        )
        batch.add_column(sa.Column("digits", sa.String(16), nullable=False, server_default="western"))
        batch.add_column(sa.Column("templates_dir", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("copy_to", sa.JSON(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("logo", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("entities") as batch:
        batch.add_column(sa.Column("rank", sa.String(32), nullable=True))
        batch.add_column(sa.Column("title", sa.Text(), nullable=True))
        batch.add_column(sa.Column("language", sa.String(2), nullable=False, server_default="ar"))
    with op.batch_alter_table("proposals") as batch:
        batch.add_column(sa.Column("language", sa.String(2), nullable=False, server_default="ar"))
        batch.add_column(sa.Column("lead_entity_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_proposals_lead_entity_id_entities"), "entities", ["lead_entity_id"], ["id"])
    with op.batch_alter_table("letters") as batch:
        batch.add_column(sa.Column("recipient", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("language", sa.String(2), nullable=False, server_default="ar"))
    # Letters written before this revision all went to a body: its addressee is the recipient.
    op.execute(
        "UPDATE letters SET recipient = (SELECT addressee FROM entities WHERE entities.id = letters.entity_id) "
        "WHERE entity_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("letters") as batch:
        batch.drop_column("language")
        batch.drop_column("recipient")
    with op.batch_alter_table("proposals") as batch:
        batch.drop_constraint(op.f("fk_proposals_lead_entity_id_entities"), type_="foreignkey")
        batch.drop_column("lead_entity_id")
        batch.drop_column("language")
    with op.batch_alter_table("entities") as batch:
        batch.drop_column("language")
        batch.drop_column("title")
        batch.drop_column("rank")
    with op.batch_alter_table("plans") as batch:
        for column in ("logo", "copy_to", "templates_dir", "digits", "signatory_title_en", "issuer_en", "title_en"):
            batch.drop_column(column)
