"""leads: a persona's offering and not-a-lead list, inbox lead labels, a workspace's lead model

Revision ID: e24c0a1b2c3d
Revises: a20b00000001
Create Date: 2026-12-11 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import digipersona.models.base

revision: str = "e24c0a1b2c3d"
down_revision: str | None = "a20b00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lead_models",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("label_count", sa.Integer(), nullable=False),
        sa.Column("trained_at", digipersona.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", digipersona.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", digipersona.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_lead_models_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_lead_models")),
    )
    with op.batch_alter_table("personas") as batch:
        batch.add_column(sa.Column("offering", sa.String(length=20), nullable=True))
        batch.add_column(
            sa.Column("not_leads", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("interactions") as batch:
        batch.add_column(sa.Column("lead_label", sa.Boolean(), nullable=True))
        batch.add_column(
            sa.Column(
                "lead_labelled_at",
                digipersona.models.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("interactions") as batch:
        batch.drop_column("lead_labelled_at")
        batch.drop_column("lead_label")
    with op.batch_alter_table("personas") as batch:
        batch.drop_column("not_leads")
        batch.drop_column("offering")
    op.drop_table("lead_models")
