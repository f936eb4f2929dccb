"""X reads per workspace and UTC day: reserved before a run, settled after it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sentibot.storage.models import (
    XUsage,
)
from sentibot.storage.statements import dialect_insert, rows_changed


def _day(now: datetime) -> str:
    return now.date().isoformat()


def x_read_today(session: Session, team_id: str, now: datetime) -> int:
    used = session.scalar(
        select(XUsage.posts_read).where(XUsage.team_id == team_id, XUsage.day == _day(now))
    )
    return int(used or 0)


def reserve_x_reads(session: Session, team_id: str, want: int, cap: int, now: datetime) -> int:
    """Reserve up to `want` X reads under the daily cap; returns how many were granted.

    One conditional UPDATE, so concurrent workers of one workspace never overshoot the cap.
    """
    stmt = dialect_insert(session, XUsage.__table__).values(
        team_id=team_id, day=_day(now), posts_read=0
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["team_id", "day"]))
    for _ in range(3):
        grant = min(want, cap - x_read_today(session, team_id, now))
        if grant <= 0:
            return 0
        result = session.execute(
            update(XUsage)
            .where(
                XUsage.team_id == team_id,
                XUsage.day == _day(now),
                XUsage.posts_read + grant <= cap,
            )
            .values(posts_read=XUsage.posts_read + grant)
        )
        if rows_changed(result) == 1:
            return grant
    return 0


def settle_x_reads(
    session: Session, team_id: str, reserved: int, billed: int, now: datetime
) -> None:
    """Replace a reservation by what X billed (less, or a little more: X pages hold at least
    10 posts)."""
    if reserved == billed:
        return
    session.execute(
        update(XUsage)
        .where(XUsage.team_id == team_id, XUsage.day == _day(now))
        .values(posts_read=XUsage.posts_read + (billed - reserved))
    )
