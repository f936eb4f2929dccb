"""jobs.worker/heartbeat_at (a dead worker is noticed in seconds), the deliveries ledger, and
attempts on notices, digest runs and score requests (no retry goes on forever)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sentibot.storage.models import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("worker", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("heartbeat_at", UTCDateTime(), nullable=True))
    op.create_table(
        "deliveries",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("message_channel", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    for table, default in (("notices", "0"), ("digest_runs", "0"), ("score_requests", "1")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("attempts", sa.Integer(), nullable=False, server_default=default)
            )


def downgrade() -> None:
    for table in ("notices", "digest_runs", "score_requests"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("attempts")
    op.drop_table("deliveries")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("heartbeat_at")
        batch_op.drop_column("worker")
