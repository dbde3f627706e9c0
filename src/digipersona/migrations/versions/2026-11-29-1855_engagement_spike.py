"""posts.engagement_spike_at: the engagement trigger fires once per post

Revision ID: f8b6c0a1000d
Revises: c3a7e0a10008
Create Date: 2026-11-29 18:55:13.233000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import digipersona.models.base

revision: str = "f8b6c0a1000d"
down_revision: str | None = "c3a7e0a10008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "engagement_spike_at",
                digipersona.models.base.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("engagement_spike_at")
