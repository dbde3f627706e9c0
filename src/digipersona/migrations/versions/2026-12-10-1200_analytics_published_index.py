"""analytics and leads: indexes for published publications by date and for new leads

Revision ID: a0b1c2d3e4f5
Revises: 6a1e57000013
Create Date: 2026-12-10 12:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a0b1c2d3e4f5"
down_revision: str | None = "6a1e57000013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_publications_workspace_state_published",
            ["workspace_id", "state", "published_at"],
            unique=False,
        )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_workspace_lead_status_created",
            ["workspace_id", "is_lead", "status", "platform_created_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.drop_index("ix_interactions_workspace_lead_status_created")
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_index("ix_publications_workspace_state_published")
