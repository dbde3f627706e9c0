"""media library, alt-text warnings, audit page index

Media may be unattached (a library image no post uses) and carry a digest grouping the copies
of one image; variants carry warnings next to problems; personas may make missing alt text
blocking; the audit page reads a workspace's events newest first.

Revision ID: b0a1d17e0001
Revises: d0a1e5000001
Create Date: 2026-12-10 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b0a1d17e0001"
down_revision: str | None = "d0a1e5000001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.alter_column("post_id", existing_type=sa.Uuid(), nullable=True)
        batch_op.add_column(sa.Column("digest", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_media_workspace_digest", ["workspace_id", "digest"], unique=False)
    # Earlier images each count as their own library image (their bytes are not read here).
    media = sa.table("media", sa.column("id", sa.Uuid()), sa.column("digest", sa.String(64)))
    bind = op.get_bind()
    for (media_id,) in bind.execute(sa.select(media.c.id)).all():
        bind.execute(media.update().where(media.c.id == media_id).values(digest=media_id.hex))
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("warnings", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
    with op.batch_alter_table("personas", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("require_alt_text", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_audit_events_workspace_created",
            ["workspace_id", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_events_workspace_created")
    with op.batch_alter_table("personas", schema=None) as batch_op:
        batch_op.drop_column("require_alt_text")
    with op.batch_alter_table("variants", schema=None) as batch_op:
        batch_op.drop_column("warnings")
    op.execute("DELETE FROM media WHERE post_id IS NULL")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index("ix_media_workspace_digest")
        batch_op.drop_column("digest")
        batch_op.alter_column("post_id", existing_type=sa.Uuid(), nullable=False)
