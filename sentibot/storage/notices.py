"""The notice outbox: channel messages about source health, sent once by a worker."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sentibot.storage.models import (
    Notice,
    utcnow,
)
from sentibot.storage.statements import paused_teams, rows_changed


def add_notice(
    session: Session,
    team_id: str,
    channel_id: str,
    kind: str,
    text: str,
    blocks: list[dict] | None = None,
) -> Notice:
    notice = Notice(
        team_id=team_id,
        channel_id=channel_id,
        kind=kind,
        text=text,
        blocks=blocks,
        created_at=utcnow(),
    )
    session.add(notice)
    session.flush()
    return notice


def claim_notice(
    session: Session, notice_id: int, now: datetime, stale_after: timedelta
) -> Notice | None:
    """The notice, if it is unsent and nobody else is sending it right now."""
    result = session.execute(
        update(Notice)
        .where(
            Notice.id == notice_id,
            Notice.sent_at.is_(None),
            (Notice.claimed_at.is_(None)) | (Notice.claimed_at < now - stale_after),
        )
        .values(claimed_at=now, attempts=Notice.attempts + 1)
    )
    if rows_changed(result) != 1:
        return None
    return session.get(Notice, notice_id, populate_existing=True)


def unsent_notices(session: Session, older_than: datetime, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(Notice.id)
            .where(Notice.sent_at.is_(None), Notice.created_at < older_than)
            .where(Notice.team_id.not_in(paused_teams()))
            .where((Notice.claimed_at.is_(None)) | (Notice.claimed_at < older_than))
            .order_by(Notice.id)
            .limit(limit)
        )
    )
