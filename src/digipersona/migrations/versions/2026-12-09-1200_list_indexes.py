"""lists: indexes that serve each list's keyset order under its common filters

Revision ID: 6a1e57000013
Revises: ca1e0da50013
Create Date: 2026-12-09 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6a1e57000013"
down_revision: str | None = "ca1e0da50013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_posts_workspace_created", ["workspace_id", "created_at", "id"], unique=False
        )
        # ix_posts_workspace_status_created comes with the calendar/dashboard indexes before.
        batch_op.create_index(
            "ix_posts_workspace_persona_created",
            ["workspace_id", "persona_id", "created_at", "id"],
            unique=False,
        )
        # The (workspace_id, status) prefix of ix_posts_workspace_status_created serves it.
        batch_op.drop_index("ix_posts_workspace_status")

    # Polling always stores the platform's time; a row without one would fall out of the
    # inbox's keyset order (NULL compares as unknown), so it takes the time it was received.
    interactions = sa.table(
        "interactions",
        sa.column("platform_created_at", sa.DateTime(timezone=True)),
        sa.column("received_at", sa.DateTime(timezone=True)),
    )
    op.execute(
        interactions.update()
        .where(interactions.c.platform_created_at.is_(None))
        .values(platform_created_at=interactions.c.received_at)
    )
    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_workspace_status_created",
            ["workspace_id", "status", "platform_created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_interactions_workspace_persona_created",
            ["workspace_id", "persona_id", "platform_created_at"],
            unique=False,
        )
        batch_op.drop_index("ix_interactions_workspace_status")

    with op.batch_alter_table("autopilot_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_autopilot_runs_persona_started")
        batch_op.create_index(
            "ix_autopilot_runs_persona_started", ["persona_id", "started_at", "id"], unique=False
        )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_workspace_created",
            ["workspace_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_notifications_workspace_unread",
            ["workspace_id", "read_at", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_workspace_unread")
        batch_op.drop_index("ix_notifications_workspace_created")

    with op.batch_alter_table("autopilot_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_autopilot_runs_persona_started")
        batch_op.create_index(
            "ix_autopilot_runs_persona_started", ["persona_id", "started_at"], unique=False
        )

    with op.batch_alter_table("interactions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_interactions_workspace_status", ["workspace_id", "status"], unique=False
        )
        batch_op.drop_index("ix_interactions_workspace_persona_created")
        batch_op.drop_index("ix_interactions_workspace_status_created")

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index("ix_posts_workspace_status", ["workspace_id", "status"], unique=False)
        batch_op.drop_index("ix_posts_workspace_persona_created")
        batch_op.drop_index("ix_posts_workspace_created")
