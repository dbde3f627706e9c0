"""calendar and dashboard indexes: publications by (workspace, scheduled_at), by state in order;
posts in review by creation

Revision ID: ca1e0da50013
Revises: 5e55e0000012
Create Date: 2026-12-08 10:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "ca1e0da50013"
down_revision: str | None = "5e55e0000012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("publications", "ix_publications_workspace_scheduled", ["workspace_id", "scheduled_at", "id"]),
    (
        "publications",
        "ix_publications_workspace_state_scheduled",
        ["workspace_id", "state", "scheduled_at"],
    ),
    (
        "publications",
        "ix_publications_workspace_state_updated",
        ["workspace_id", "state", "updated_at"],
    ),
    ("posts", "ix_posts_workspace_status_created", ["workspace_id", "status", "created_at", "id"]),
)


def upgrade() -> None:
    for table, name, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for table, name, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
