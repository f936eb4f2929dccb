"""jobs (team_id, user_id, created_at): the per-person quota counts a minute, not a history

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_jobs_team_user_created", "jobs", ["team_id", "user_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_jobs_team_user_created", table_name="jobs")
