"""backfills of new watches; a watch's complete history start; notices with blocks

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sentibot.storage.models import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "backfills",
        sa.Column("id", BigID, primary_key=True),
        sa.Column(
            "watch_id", BigID, sa.ForeignKey("watches.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("since", When, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("estimate", sa.Integer()),
        sa.Column("posts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("reached", When),
        sa.Column("reason", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("claimed_at", When),
        sa.Column("created_at", When, nullable=False),
        sa.Column("finished_at", When),
        sa.UniqueConstraint("watch_id", "source"),
    )
    op.create_index("ix_backfills_state", "backfills", ["state"])
    with op.batch_alter_table("watches") as batch:
        batch.add_column(sa.Column("history_from", When))
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("blocks", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_column("blocks")
    with op.batch_alter_table("watches") as batch:
        batch.drop_column("history_from")
    op.drop_index("ix_backfills_state", "backfills")
    op.drop_table("backfills")
