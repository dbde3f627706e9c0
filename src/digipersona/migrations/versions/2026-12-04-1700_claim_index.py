"""publications: a covering index for the dispatcher's claim replaces ix_publications_due

Revision ID: 0c1a1e000011
Revises: f8b6c0a1000d
Create Date: 2026-12-04 17:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0c1a1e000011"
down_revision: str | None = "f8b6c0a1000d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_publications_claim",
            ["state", "next_attempt_at", "priority", "id"],
            unique=False,
        )
        batch_op.drop_index("ix_publications_due")


def downgrade() -> None:
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.create_index("ix_publications_due", ["state", "next_attempt_at"], unique=False)
        batch_op.drop_index("ix_publications_claim")
