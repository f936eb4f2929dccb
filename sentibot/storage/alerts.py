"""Named queries for alert rules, their history, digests and the windows both read.

Every read a user sees is scoped by team and channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from scoring.base import Sentiment
from sentibot.storage.models import (
    AlertEvent,
    AlertRule,
    Digest,
    DigestRun,
    Post,
    Score,
    Watch,
    WatchPost,
)
from sentibot.storage.queries import _insert, compare_and_set

# When a post happened: its own time where the source gives one, else when it was collected.
POSTED = func.coalesce(Post.posted_at, Post.collected_at)


@dataclass(frozen=True)
class WindowPost:
    when: datetime
    source: str
    text: str
    url: str | None
    engagement: int
    sentiment: Sentiment


def window_posts(
    session: Session, watch: Watch, start: datetime, end: datetime
) -> list[WindowPost]:
    """The watch's scored posts that happened in [start, end)."""
    rows = session.execute(
        select(Post, Score, POSTED.label("at"))
        .join(WatchPost, WatchPost.post_id == Post.id)
        .join(Score, (Score.post_id == Post.id) & (Score.model == watch.model))
        .where(WatchPost.watch_id == watch.id, POSTED >= start, POSTED < end)
        .order_by(Post.id)
    )
    out = []
    for post, score, at in rows:
        when = at if isinstance(at, datetime) else post.posted_at or post.collected_at
        out.append(
            WindowPost(
                when=when,
                source=post.source,
                text=post.text,
                url=post.url,
                engagement=post.engagement,
                sentiment=Sentiment(
                    score.label, score.compound, score.negative, score.neutral, score.positive
                ),
            )
        )
    return out


def window_counts(
    session: Session, watch: Watch, windows: Sequence[tuple[datetime, datetime]]
) -> list[int | None]:
    """Posts per window; None for windows that began before the watch existed."""
    out: list[int | None] = []
    for start, end in windows:
        if start < watch.created_at:
            out.append(None)
            continue
        n = session.scalar(
            select(func.count())
            .select_from(WatchPost)
            .join(Post, Post.id == WatchPost.post_id)
            .where(WatchPost.watch_id == watch.id, POSTED >= start, POSTED < end)
        )
        out.append(int(n or 0))
    return out


# Alert rules ------------------------------------------------------------------------------


def add_rule(
    session: Session, watch: Watch, *, user_id: str | None, now: datetime, **fields: object
) -> AlertRule:
    rule = AlertRule(
        team_id=watch.team_id,
        channel_id=watch.channel_id,
        watch_id=watch.id,
        topic=watch.topic,
        state="ok",
        created_by=user_id,
        created_at=now,
        next_eval_at=now,
        **fields,
    )
    session.add(rule)
    session.flush()
    return rule


def channel_rules(session: Session, team_id: str, channel_id: str) -> list[AlertRule]:
    return list(
        session.scalars(
            select(AlertRule)
            .where(AlertRule.team_id == team_id, AlertRule.channel_id == channel_id)
            .order_by(AlertRule.id)
        )
    )


def team_rules(session: Session, team_id: str) -> list[AlertRule]:
    return list(
        session.scalars(
            select(AlertRule).where(AlertRule.team_id == team_id).order_by(AlertRule.id)
        )
    )


def team_digests(session: Session, team_id: str) -> list[Digest]:
    return list(
        session.scalars(select(Digest).where(Digest.team_id == team_id).order_by(Digest.id))
    )


def rule_history(session: Session, rule_ids: Sequence[int], limit: int = 10) -> list[AlertEvent]:
    if not rule_ids:
        return []
    return list(
        session.scalars(
            select(AlertEvent)
            .where(AlertEvent.rule_id.in_(rule_ids))
            .order_by(AlertEvent.at.desc(), AlertEvent.id.desc())
            .limit(limit)
        )
    )


def add_event(
    session: Session, rule_id: int, kind: str, value: float | None, now: datetime, detail: str = ""
) -> None:
    session.add(AlertEvent(rule_id=rule_id, kind=kind, value=value, detail=detail or None, at=now))


def claim_due_rules(
    session: Session, now: datetime, every: timedelta, limit: int = 200
) -> list[int]:
    """Rules due for evaluation, each claimed by moving its next evaluation `every` ahead with
    a compare-and-set: one evaluator per rule per period, however many dispatchers run."""
    due = session.execute(
        select(AlertRule.id, AlertRule.next_eval_at)
        .where(AlertRule.next_eval_at <= now)
        .order_by(AlertRule.next_eval_at)
        .limit(limit)
    ).all()
    return [
        rule_id
        for rule_id, at in due
        if compare_and_set(session, AlertRule.next_eval_at, rule_id, at, next_eval_at=now + every)
    ]


def lock_rule(session: Session, rule_id: int) -> AlertRule | None:
    """The rule, locked for this transaction (PostgreSQL row lock; SQLite writes one at a time)."""
    return session.scalar(select(AlertRule).where(AlertRule.id == rule_id).with_for_update())


def mute_topic(
    session: Session, team_id: str, channel_id: str, topic: str, until: datetime | None
) -> bool:
    done = session.execute(
        update(Watch)
        .where(Watch.team_id == team_id, Watch.channel_id == channel_id, Watch.topic == topic)
        .values(muted_until=until)
    )
    return done.rowcount > 0


# Digests ----------------------------------------------------------------------------------


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


def channel_digest(session: Session, team_id: str, channel_id: str) -> Digest | None:
    return session.scalar(
        select(Digest).where(Digest.team_id == team_id, Digest.channel_id == channel_id)
    )


def due_digests(session: Session, now: datetime, limit: int = 100) -> list[Digest]:
    return list(
        session.scalars(
            select(Digest)
            .where(Digest.next_due_at <= now)
            .order_by(Digest.next_due_at)
            .limit(limit)
        )
    )


def move_digest(session: Session, digest: Digest, old_due: datetime, new_due: datetime) -> bool:
    """Compare-and-set of the due time: True for the one dispatcher that moved it."""
    return compare_and_set(session, Digest.next_due_at, digest.id, old_due, next_due_at=new_due)


def add_digest_run(
    session: Session, digest: Digest, start: datetime, end: datetime, late: bool, now: datetime
) -> int | None:
    """The period's run, or None if it exists already (unique on digest and period end)."""
    stmt = (
        _insert(session, DigestRun.__table__)
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
        .values(claimed_at=now)
    )
    return session.get(DigestRun, run_id) if done.rowcount == 1 else None


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
