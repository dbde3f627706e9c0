"""review links: a hashed token that lets someone without an account decide on some posts

Revision ID: c41a00000001
Revises: e24c0a1b2c3d
Create Date: 2026-12-12 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import digipersona.models.base

revision: str = "c41a00000001"
down_revision: str | None = "e24c0a1b2c3d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review_links",
        sa.Column("workspace_id", sa.Uuid(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("post_ids", sa.JSON(), nullable=False),
        sa.Column("expires_at", digipersona.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", digipersona.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", digipersona.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", digipersona.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_review_links_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_review_links_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_review_links_token_hash")),
    )
    op.create_index(
        op.f("ix_review_links_workspace_id"), "review_links", ["workspace_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_review_links_workspace_id"), table_name="review_links")
    op.drop_table("review_links")
