"""The token columns of slack-sdk's installation tables, rewritten in place: encrypting them
(migration 0008) or moving them to the newest key (`sentibot reencrypt`, which moves every
encrypted column: webhook signing secrets too)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import Connection, column, select, table, update

from sentibot.secrets import PREFIX

TOKEN_COLUMNS = {
    "slack_installations": ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token"),
    "slack_bots": ("bot_token", "bot_refresh_token"),
}


# Every column sentibot encrypts (what a key rotation must move).
ENCRYPTED_COLUMNS = {**TOKEN_COLUMNS, "webhooks": ("secret",)}


def rewrite_tokens(
    connection: Connection,
    transform: Callable[[str | None], str | None],
    columns: dict[str, tuple[str, ...]] = TOKEN_COLUMNS,
) -> int:
    """Apply `transform` to every value of `columns`; the number of rows changed."""
    changed = 0
    for name, names in columns.items():
        tokens = table(name, column("id"), *(column(n) for n in names))
        for row in connection.execute(select(tokens)).mappings().all():
            values = {n: transform(row[n]) for n in names}
            if any(values[n] != row[n] for n in names):
                connection.execute(update(tokens).where(tokens.c.id == row["id"]).values(values))
                changed += 1
    return changed


def plaintext_tokens(connection: Connection) -> int:
    """Stored tokens not encrypted (without sentibot.secrets.PREFIX)."""
    return sum(1 for v in _stored(connection) if not v.startswith(PREFIX))


def encrypted_tokens(connection: Connection) -> int:
    return sum(1 for v in _stored(connection) if v.startswith(PREFIX))


def _stored(connection: Connection) -> Iterator[str]:
    for name, names in TOKEN_COLUMNS.items():
        tokens = table(name, *(column(n) for n in names))
        for row in connection.execute(select(tokens)).all():
            yield from (v for v in row if v is not None)
