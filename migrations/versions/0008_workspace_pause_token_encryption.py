"""workspaces.paused_at (an uninstall pauses a workspace), and Slack tokens encrypted at rest

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 15:00:00

Stored tokens are encrypted with SENTIBOT_SECRET_KEYS; a database holding tokens cannot be
upgraded without it (the error says so). The token columns become TEXT: ciphertext is longer.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from sentibot.config.settings import Settings
from sentibot.secrets import Cipher
from sentibot.storage.models import UTCDateTime
from sentibot.storage.slack_tokens import (
    TOKEN_COLUMNS,
    encrypted_tokens,
    plaintext_tokens,
    rewrite_tokens,
)

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    connection = op.get_bind()
    keys = _keys()
    # Checked before any change: SQLite does not roll back DDL.
    if plaintext_tokens(connection) and not keys:
        raise RuntimeError(
            "This database holds workspaces' Slack tokens in plaintext: set "
            "SENTIBOT_SECRET_KEYS (make a key with `sentibot new-secret-key`) and migrate "
            "again to encrypt them."
        )
    op.add_column("workspaces", sa.Column("paused_at", UTCDateTime(), nullable=True))
    _retype_tokens(sa.String(length=200), sa.Text())
    if keys:
        rewrite_tokens(connection, Cipher(keys).encrypt)


def downgrade() -> None:
    connection = op.get_bind()
    if encrypted_tokens(connection):
        keys = _keys()
        if not keys:
            raise RuntimeError("set SENTIBOT_SECRET_KEYS to decrypt the stored tokens first")
        rewrite_tokens(connection, Cipher(keys).decrypt)
    _retype_tokens(sa.Text(), sa.String(length=200))
    if op.get_bind().dialect.name == "sqlite":
        # Natively (SQLite 3.35+): a batch rebuild would drop a table other rows reference.
        op.execute("ALTER TABLE workspaces DROP COLUMN paused_at")
    else:
        op.drop_column("workspaces", "paused_at")


def _retype_tokens(old: sa.types.TypeEngine, new: sa.types.TypeEngine) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite does not enforce lengths: nothing to change, no table to rebuild
    for name, columns in TOKEN_COLUMNS.items():
        for column in columns:
            op.alter_column(name, column, existing_type=old, type_=new)


def _keys() -> str:
    secret = Settings().sentibot_secret_keys  # the environment or .env, as every command reads
    return secret.get_secret_value() if secret else ""
