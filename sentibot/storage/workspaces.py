"""Workspaces: one row per Slack team that used sentibot."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sentibot.storage.models import (
    Workspace,
    utcnow,
)
from sentibot.storage.statements import dialect_insert


def ensure_workspace(session: Session, team_id: str, name: str | None = None) -> None:
    stmt = dialect_insert(session, Workspace.__table__).values(
        team_id=team_id, name=name, created_at=utcnow()
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["team_id"]))
