"""Statements every table family uses: insert-or-ignore, compare-and-set, and the fair order
in which due work is claimed."""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, CursorResult, FromClause, Result, Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from sentibot.storage.models import Workspace


def dialect_insert(session: Session, table: FromClause) -> postgresql.Insert | sqlite.Insert:
    """An INSERT with the dialect's ON CONFLICT clauses (`on_conflict_do_nothing`, …)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(cast(Any, table))
    if dialect == "sqlite":
        return sqlite.insert(cast(Any, table))
    raise RuntimeError(f"unsupported database dialect: {dialect}")


Row = TypeVar("Row")


def row(session: Session, model: type[Row], key: object) -> Row:
    """The row a caller knows exists (it read or locked it earlier in the flow); a row that
    is gone after all is a LookupError naming it, not an AttributeError on None later."""
    found = session.get(model, key)
    if found is None:
        raise LookupError(f"{model.__name__} {key!r} is gone")
    return found


def rows_changed(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE touched (`execute` types its result as a
    plain Result; a DML statement's is a CursorResult)."""
    return cast(CursorResult[Any], result).rowcount


def compare_and_set(
    session: Session, column: InstrumentedAttribute, row_id: int, expected: object, **values: object
) -> bool:
    """Update the row only if `column` still holds `expected`: True for the one caller that
    did. Every due-time claim (watches, alert rules, digests) is one of these."""
    model = column.class_
    done = session.execute(
        update(model).where(model.id == row_id, column == expected).values(**values)
    )
    return rows_changed(done) == 1


def fair_due(
    columns: list[InstrumentedAttribute],
    team: InstrumentedAttribute,
    due: InstrumentedAttribute,
    now: datetime,
    limit: int,
) -> Select:
    """Rows due at `now`, in turns: every workspace's most overdue row before any workspace's
    second, so one workspace with thousands never delays another's one. Workspaces paused by
    an uninstall are left out."""
    turn = func.row_number().over(partition_by=team, order_by=due).label("turn")
    ranked = (
        select(*{c.key: c for c in [*columns, due]}.values(), turn)
        .where(due <= now, team.not_in(paused_teams()))
        .subquery("ranked")
    )
    picked: list[ColumnElement] = [ranked.c[c.key] for c in columns]
    return select(*picked).order_by(ranked.c.turn, ranked.c[due.key]).limit(limit)


def paused_teams() -> Select:
    """The workspaces an uninstall paused (a subquery for `team_id.not_in(...)`)."""
    return select(Workspace.team_id).where(Workspace.paused_at.is_not(None))
