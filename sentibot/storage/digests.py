"""Channel digests: schedules, due-time claims and the runs sent exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sentibot.storage.models import (
    Digest,
    DigestRun,
)
from sentibot.storage.statements import compare_and_set, dialect_insert, fair_due, rows_changed
from sentibot.storage.statements import row as stored


def team_digests(session: Session, team_id: str) -> list[Digest]:
    return list(
        session.scalars(select(Digest).where(Digest.team_id == team_id).order_by(Digest.id))
    )


def set_digest(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    cadence: str,
    local_time: str,
    tz: str,
    weekday: int | None,
    next_due_at: datetime,
    user_id: str | None,
) -> Digest:
    digest = session.scalar(
        select(Digest).where(Digest.team_id == team_id, Digest.channel_id == channel_id)
    )
    if digest is None:
        digest = Digest(team_id=team_id, channel_id=channel_id, created_by=user_id)
        session.add(digest)
    digest.cadence, digest.local_time, digest.tz, digest.weekday = cadence, local_time, tz, weekday
    digest.next_due_at = next_due_at
    session.flush()
    return digest


def remove_digest(session: Session, team_id: str, channel_id: str) -> bool:
    found = session.scalar(
        select(Digest.id).where(Digest.team_id == team_id, Digest.channel_id == channel_id)
    )
    if found is None:
        return False
    session.execute(delete(DigestRun).where(DigestRun.digest_id == found))
    session.execute(delete(Digest).where(Digest.id == found))
    return True


def due_digests(session: Session, now: datetime, limit: int = 100) -> list[Digest]:
    ids = session.scalars(fair_due([Digest.id], Digest.team_id, Digest.next_due_at, now, limit))
    return [stored(session, Digest, digest_id) for digest_id in ids]


def move_digest(session: Session, digest: Digest, old_due: datetime, new_due: datetime) -> bool:
    """Compare-and-set of the due time: True for the one dispatcher that moved it."""
    return compare_and_set(session, Digest.next_due_at, digest.id, old_due, next_due_at=new_due)


def add_digest_run(
    session: Session, digest: Digest, start: datetime, end: datetime, late: bool, now: datetime
) -> int | None:
    """The period's run, or None if it exists already (unique on digest and period end)."""
    stmt = (
        dialect_insert(session, DigestRun.__table__)
        .values(
            digest_id=digest.id,
            team_id=digest.team_id,
            channel_id=digest.channel_id,
            period_start=start,
            period_end=end,
            late=late,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["digest_id", "period_end"])
        .returning(DigestRun.id)
    )
    return session.execute(stmt).scalar()


def claim_digest_run(
    session: Session, run_id: int, now: datetime, stale: timedelta
) -> DigestRun | None:
    done = session.execute(
        update(DigestRun)
        .where(
            DigestRun.id == run_id,
            DigestRun.sent_at.is_(None),
            DigestRun.claimed_at.is_(None) | (DigestRun.claimed_at < now - stale),
        )
        .values(claimed_at=now, attempts=DigestRun.attempts + 1)
    )
    return (
        session.get(DigestRun, run_id, populate_existing=True) if rows_changed(done) == 1 else None
    )


def unsent_digest_runs(session: Session, older_than: datetime) -> list[int]:
    return list(
        session.scalars(
            select(DigestRun.id).where(
                DigestRun.sent_at.is_(None),
                DigestRun.created_at < older_than,
                DigestRun.claimed_at.is_(None) | (DigestRun.claimed_at < older_than),
            )
        )
    )
