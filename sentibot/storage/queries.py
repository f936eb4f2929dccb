"""Named queries. Everything a task or listener reads or writes goes through here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Insert, Table, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from collectors.base import Post as CollectedPost
from scoring.base import Sentiment
from sentibot.storage.models import Job, JobPost, JobState, Post, Score, Workspace, utcnow

_BATCH = 500


def _insert(session: Session, table: Table) -> Insert:
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


def ensure_workspace(session: Session, team_id: str, name: str | None = None) -> None:
    stmt = _insert(session, Workspace.__table__).values(
        team_id=team_id, name=name, created_at=utcnow()
    )
    session.execute(stmt.on_conflict_do_nothing(index_elements=["team_id"]))


def create_job(
    session: Session,
    *,
    team_id: str,
    topic: str,
    sources: Sequence[str],
    channel_id: str,
    user_id: str | None,
    response_url: str | None,
    post_limit: int,
    model: str,
    window_s: int = 86_400,
) -> Job:
    ensure_workspace(session, team_id)
    now = utcnow()
    job = Job(
        team_id=team_id,
        kind="analyze",
        topic=topic,
        sources=list(sources),
        channel_id=channel_id,
        user_id=user_id,
        response_url=response_url,
        post_limit=post_limit,
        model=model,
        window_s=window_s,
        created_at=now,
        updated_at=now,
    )
    session.add(job)
    session.flush()
    return job


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def jobs_for_team(session: Session, team_id: str) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.team_id == team_id).order_by(Job.id)))


def advance_job(session: Session, job: Job, *, stage: str, state: str = JobState.STARTED) -> None:
    job.stage = stage
    job.state = state
    job.updated_at = utcnow()
    if state in (JobState.DONE, JobState.FAILED):
        job.finished_at = job.updated_at


def stuck_jobs(
    session: Session, *, queued_before: datetime, started_before: datetime, limit: int = 100
) -> list[Job]:
    """Jobs never picked up since `queued_before`, or started and untouched since
    `started_before`: lost broker messages and dead workers."""
    stmt = (
        select(Job)
        .where(
            or_(
                (Job.state == JobState.QUEUED) & (Job.updated_at < queued_before),
                (Job.state == JobState.STARTED) & (Job.updated_at < started_before),
            )
        )
        .order_by(Job.updated_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def touch_job(session: Session, job_id: int, now: datetime) -> None:
    session.execute(
        update(Job).where(Job.id == job_id).values(updated_at=now, attempts=Job.attempts + 1)
    )


def store_posts(session: Session, posts: Sequence[CollectedPost]) -> list[int]:
    """Insert posts once per (source, external id); return the row ids of all of them."""
    ids: list[int] = []
    for start in range(0, len(posts), _BATCH):
        batch = _dedupe(posts[start : start + _BATCH])
        rows = [
            {
                "source": p.source,
                "external_id": p.external_id,
                "author": p.author,
                "text": p.text,
                "url": p.url,
                "lang": p.lang,
                "engagement": p.engagement,
                "posted_at": p.created_at,
                "collected_at": utcnow(),
            }
            for p in batch
        ]
        stmt = _insert(session, Post.__table__).on_conflict_do_nothing(
            index_elements=["source", "external_id"]
        )
        session.execute(stmt, rows)
        by_source: dict[str, list[str]] = {}
        for p in batch:
            by_source.setdefault(p.source, []).append(p.external_id)
        # One equality and one IN list per source: both backends walk the unique index
        # (a row-value IN over (source, external_id) is a sequential scan on PostgreSQL).
        for source, external_ids in by_source.items():
            found = session.execute(
                select(Post.id).where(Post.source == source, Post.external_id.in_(external_ids))
            )
            ids.extend(found.scalars())
    return ids


def _dedupe(posts: Iterable[CollectedPost]) -> list[CollectedPost]:
    seen: dict[tuple[str, str], CollectedPost] = {}
    for post in posts:
        seen.setdefault((post.source, post.external_id), post)
    return list(seen.values())


def link_job_posts(session: Session, job_id: int, post_ids: Sequence[int]) -> None:
    if not post_ids:
        return
    stmt = _insert(session, JobPost.__table__).on_conflict_do_nothing(
        index_elements=["job_id", "post_id"]
    )
    session.execute(stmt, [{"job_id": job_id, "post_id": pid} for pid in set(post_ids)])


def unscored_job_posts(
    session: Session, job_id: int, model: str, limit: int = _BATCH
) -> list[tuple[int, str]]:
    scored = select(Score.post_id).where(Score.model == model)
    stmt = (
        select(Post.id, Post.text)
        .join(JobPost, JobPost.post_id == Post.id)
        .where(JobPost.job_id == job_id, Post.id.not_in(scored))
        .order_by(Post.id)
        .limit(limit)
    )
    return [(row.id, row.text) for row in session.execute(stmt)]


def store_scores(session: Session, model: str, scored: Sequence[tuple[int, Sentiment]]) -> None:
    if not scored:
        return
    stmt = _insert(session, Score.__table__).on_conflict_do_nothing(
        index_elements=["post_id", "model"]
    )
    now = utcnow()
    session.execute(
        stmt,
        [
            {
                "post_id": post_id,
                "model": model,
                "label": s.label,
                "compound": s.compound,
                "negative": s.negative,
                "neutral": s.neutral,
                "positive": s.positive,
                "scored_at": now,
            }
            for post_id, s in scored
        ],
    )


@dataclass(frozen=True)
class ScoredPost:
    source: str
    text: str
    url: str | None
    engagement: int
    sentiment: Sentiment
    posted_at: datetime | None = None


def scored_job_posts(session: Session, job: Job) -> list[ScoredPost]:
    """The job's posts with their scores under the job's model, scoped by the job's team."""
    stmt = (
        select(Post, Score)
        .join(JobPost, JobPost.post_id == Post.id)
        .join(Job, Job.id == JobPost.job_id)
        .join(Score, (Score.post_id == Post.id) & (Score.model == job.model))
        .where(JobPost.job_id == job.id, Job.team_id == job.team_id)
        .order_by(Post.id)
    )
    return [
        ScoredPost(
            source=post.source,
            text=post.text,
            url=post.url,
            engagement=post.engagement,
            posted_at=post.posted_at or post.collected_at,
            sentiment=Sentiment(
                label=score.label,
                compound=score.compound,
                negative=score.negative,
                neutral=score.neutral,
                positive=score.positive,
            ),
        )
        for post, score in session.execute(stmt)
    ]


def set_source_reports(job: Job, reports: dict[str, Any]) -> None:
    job.source_reports = dict(reports)
