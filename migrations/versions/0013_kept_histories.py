"""what a removed watch had read, kept so that watching the topic again does not re-read it;
a source being read by a watch run (a redelivered run reads nothing)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 22:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sentibot.storage.models import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = UTCDateTime()


def upgrade() -> None:
    op.create_table(
        "kept_histories",
        sa.Column("id", BigID, primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("since", When, nullable=False),
        sa.Column("until", When, nullable=False),
        sa.Column("post_ids", sa.JSON(), nullable=False),
    )
    op.create_index("ix_kept_histories_topic", "kept_histories", ["team_id", "topic", "source"])
    with op.batch_alter_table("backfills") as batch:
        batch.add_column(sa.Column("read_from", When))
    with op.batch_alter_table("source_states") as batch:
        batch.add_column(sa.Column("reading_since", When))


def downgrade() -> None:
    with op.batch_alter_table("source_states") as batch:
        batch.drop_column("reading_since")
    with op.batch_alter_table("backfills") as batch:
        batch.drop_column("read_from")
    op.drop_index("ix_kept_histories_topic", "kept_histories")
    op.drop_table("kept_histories")
