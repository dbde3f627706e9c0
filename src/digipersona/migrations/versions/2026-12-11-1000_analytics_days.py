"""analytics: the daily publication summary (analytics_days), filled from existing history

Revision ID: f16a00000001
Revises: 1a0a15e70020
Create Date: 2026-12-11 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "f16a00000001"
down_revision: str | None = "1a0a15e70020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMS = ("likes", "reposts", "replies", "quotes", "impressions", "engagements")


def upgrade() -> None:
    op.create_table(
        "analytics_days",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("persona_id", sa.Uuid(), nullable=False),
        sa.Column("platform", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("measured", sa.Integer(), nullable=False),
        *(
            column
            for name in SUMS
            for column in (
                sa.Column(name, sa.BigInteger(), nullable=False),
                sa.Column(f"{name}_n", sa.Integer(), nullable=False),
            )
        ),
        sa.Column("hours", sa.JSON(), nullable=False),
        sa.Column("top", sa.JSON(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["persona_id"],
            ["personas.id"],
            name=op.f("fk_analytics_days_persona_id_personas"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_analytics_days_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_days")),
        sa.UniqueConstraint(
            "workspace_id",
            "persona_id",
            "platform",
            "day",
            name=op.f("uq_analytics_days_workspace_id_persona_id_platform_day"),
        ),
    )
    with op.batch_alter_table("analytics_days", schema=None) as batch_op:
        batch_op.create_index(
            "ix_analytics_days_workspace_day", ["workspace_id", "day"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_analytics_days_persona_id"), ["persona_id"], unique=False
        )
    # Sum the existing history with the code that keeps the summary from now on (one pass over
    # the published publications and each one's latest reading).
    from digipersona.publishing import summary

    summary.rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    with op.batch_alter_table("analytics_days", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analytics_days_persona_id"))
        batch_op.drop_index("ix_analytics_days_workspace_day")
    op.drop_table("analytics_days")
