"""source_states.cursor as text: a cursor per Mastodon instance or Stack Exchange site is a
small JSON object, longer than 64 characters with a few of them

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source_states") as batch:
        batch.alter_column("cursor", type_=sa.Text(), existing_type=sa.String(64))


def downgrade() -> None:
    # A cursor that no longer fits is dropped: its source reads from the start once.
    op.execute("UPDATE source_states SET cursor = NULL WHERE length(cursor) > 64")
    with op.batch_alter_table("source_states") as batch:
        batch.alter_column("cursor", type_=sa.String(64), existing_type=sa.Text())
