"""ai: a workspace's own AI provider settings, per-call AI usage, a persona's model override

Revision ID: 1a0a15e70020
Revises: b0a1d17e0001
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import digipersona.models.base

revision: str = "1a0a15e70020"
down_revision: str | None = "b0a1d17e0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ai_settings",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=True),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("api_key_enc", sa.Text(), nullable=True),
        sa.Column(
            "monthly_budget_usd", sa.Numeric(precision=10, scale=4, asdecimal=False), nullable=True
        ),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("budget_warned_month", sa.String(length=7), nullable=True),
        sa.Column("created_at", digipersona.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", digipersona.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_ai_settings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", name=op.f("pk_ai_settings")),
    )
    op.create_table(
        "ai_usage",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("persona_id", sa.Uuid(), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("tokens_in", sa.Integer(), nullable=False),
        sa.Column("tokens_out", sa.Integer(), nullable=False),
        sa.Column("cost_usd", sa.Numeric(precision=12, scale=6, asdecimal=False), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", digipersona.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", digipersona.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["persona_id"],
            ["personas.id"],
            name=op.f("fk_ai_usage_persona_id_personas"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_ai_usage_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_usage")),
    )
    op.create_index("ix_ai_usage_workspace_month", "ai_usage", ["workspace_id", "month"])
    with op.batch_alter_table("personas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ai_model", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("personas", schema=None) as batch_op:
        batch_op.drop_column("ai_model")
    op.drop_index("ix_ai_usage_workspace_month", table_name="ai_usage")
    op.drop_table("ai_usage")
    op.drop_table("ai_settings")
