"""Dialect-aware statements every table family uses: insert-or-ignore and compare-and-set."""

from __future__ import annotations

from sqlalchemy import Insert, Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session


def dialect_insert(session: Session, table: Table) -> Insert:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect: {dialect}")


def compare_and_set(
    session: Session, column: InstrumentedAttribute, row_id: int, expected: object, **values: object
) -> bool:
    """Update the row only if `column` still holds `expected`: True for the one caller that
    did. Every due-time claim (watches, alert rules, digests) is one of these."""
    model = column.class_
    done = session.execute(
        update(model).where(model.id == row_id, column == expected).values(**values)
    )
    return done.rowcount == 1
