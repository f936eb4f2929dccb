"""webhooks and their delivery outbox; corrections of posts per workspace

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sentibot.storage.models import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", BigID, primary_key=True),
        sa.Column("team_id", sa.String(32), sa.ForeignKey("workspaces.team_id"), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(32)),
        sa.Column("created_at", When, nullable=False),
    )
    op.create_index("ix_webhooks_team_id", "webhooks", ["team_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BigID, primary_key=True),
        sa.Column(
            "webhook_id", BigID, sa.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", When, nullable=False),
        sa.Column("claimed_at", When),
        sa.Column("last_status", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", When, nullable=False),
        sa.Column("delivered_at", When),
        sa.UniqueConstraint("webhook_id", "event_id"),
    )
    op.create_index("ix_webhook_deliveries_webhook_id", "webhook_deliveries", ["webhook_id"])
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "corrections",
        sa.Column("id", BigID, primary_key=True),
        sa.Column("team_id", sa.String(32), sa.ForeignKey("workspaces.team_id"), nullable=False),
        sa.Column("post_id", BigID, sa.ForeignKey("posts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(16), nullable=False),
        sa.Column("watch_id", BigID, sa.ForeignKey("watches.id", ondelete="SET NULL")),
        sa.Column("user_id", sa.String(32)),
        sa.Column("created_at", When, nullable=False),
        sa.UniqueConstraint("team_id", "post_id"),
    )
    op.create_index("ix_corrections_team_id", "corrections", ["team_id"])


def downgrade() -> None:
    op.drop_table("corrections")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
