"""personas: a colour per persona (marks it in calendar cells, lists and previews)

Revision ID: d25c0a1b2c3d
Revises: f16a00000001
Create Date: 2026-12-11 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d25c0a1b2c3d"
down_revision: str | None = "f16a00000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("personas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("colour", sa.String(length=7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("personas", schema=None) as batch_op:
        batch_op.drop_column("colour")
