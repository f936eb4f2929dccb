"""Workspaces: one row per Slack team that used sentibot."""

from __future__ import annotations

import threading
import time
from datetime import datetime

from sqlalchemy import update
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


def lock_workspace(session: Session, team_id: str) -> None:
    """Hold the workspace's row until the transaction ends: what counts a quota and then adds
    a row runs one at a time per workspace (40 concurrent `watch` commands stored 31 watches
    against a quota of 25). A write, so it locks on SQLite too: call it first in a transaction."""
    ensure_workspace(session, team_id)
    session.execute(
        update(Workspace).where(Workspace.team_id == team_id).values(team_id=Workspace.team_id)
    )


def pause(session: Session, team_id: str, now: datetime) -> None:
    """The app was uninstalled (or its tokens revoked): nothing of the workspace runs (no
    collection, no X spending, no alerts, digests or retries); its data is kept."""
    ensure_workspace(session, team_id)
    session.execute(
        update(Workspace)
        .where(Workspace.team_id == team_id, Workspace.paused_at.is_(None))
        .values(paused_at=now)
    )


def resume(session: Session, team_id: str, name: str | None = None) -> None:
    """The workspace's row exists and is not paused."""
    ensure_workspace(session, team_id, name)
    session.execute(
        update(Workspace)
        .where(Workspace.team_id == team_id, Workspace.paused_at.is_not(None))
        .values(paused_at=None)
    )


# Workspaces this process has seen active lately: a command from one of them needs no database
# round trip to make sure its row exists and resume it (once a minute per process at most).
ACTIVE_TTL_S = 60.0
_active: dict[str, float] = {}
_active_lock = threading.Lock()


def recently_active(team_id: str) -> bool:
    with _active_lock:
        return _active.get(team_id, 0.0) > time.monotonic()


def note_active(session: Session, team_id: str) -> None:
    """A command came from `team_id`, so it is installed: its row exists and is not paused."""
    if recently_active(team_id):
        return
    resume(session, team_id)
    with _active_lock:
        _active[team_id] = time.monotonic() + ACTIVE_TTL_S


def forget_active() -> None:
    """For tests that empty the database under a running process."""
    with _active_lock:
        _active.clear()
