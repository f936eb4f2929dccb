"""On-demand analysis jobs (the outbox the bot writes before it acknowledges) and their posts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, Insert, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from sentibot.sentiment import UNSCORED, Sentiment
from sentibot.storage.corrections import corrected
from sentibot.storage.models import (
    ANALYZE,
    UNFINISHED,
    Correction,
    Job,
    JobPost,
    JobStage,
    JobState,
    Post,
    Score,
    utcnow,
)
from sentibot.storage.statements import dialect_insert
from sentibot.storage.statements import row as stored
from sentibot.topic_scope import scored_as


def admit_job(
    session: Session | Connection,
    *,
    team_id: str,
    topic: str,
    sources: Sequence[str],
    channel_id: str,
    user_id: str | None,
    response_url: str | None,
    post_limit: int,
    model: str,
    window_s: int,
    per_user_per_minute: int,
    kind: str = ANALYZE,
) -> int | None:
    """Store a job unless its user already started `per_user_per_minute` in the last minute:
    the count and the insert are one statement (one round trip, and two commands racing each
    other cannot both squeeze under the limit). The job's id, or None when refused. The
    workspace row must exist (bot.listeners.commands makes sure of it once a minute)."""
    now = utcnow()
    values: dict[str, Any] = {
        "team_id": team_id,
        "kind": kind,
        "topic": topic,
        "sources": list(sources),
        "channel_id": channel_id,
        "user_id": user_id,
        "response_url": response_url,
        "post_limit": post_limit,
        "model": scored_as(model, topic),
        "window_s": window_s,
        "state": JobState.QUEUED,
        "stage": JobStage.COLLECT,
        "attempts": 0,
        "source_reports": {},
        "created_at": now,
        "updated_at": now,
    }
    params = {**values, "limit": per_user_per_minute, "since": now - timedelta(minutes=1)}
    return session.execute(_admit_statement(), params).scalar()


@lru_cache(maxsize=1)
def _admit_statement() -> Insert:
    """INSERT INTO jobs (…) SELECT :values WHERE (recent jobs of the user) < :limit RETURNING id,
    built once: the ack path spends no time composing it."""
    columns = Job.__table__.c
    names = [
        "team_id", "kind", "topic", "sources", "channel_id", "user_id", "response_url",
        "post_limit", "model", "window_s", "state", "stage", "attempts", "source_reports",
        "created_at", "updated_at",
    ]  # fmt: skip
    # Counting stops at the limit: a busy person's minute costs the same as a quiet one's.
    window = (
        select(columns["id"])
        .where(
            Job.team_id == bindparam("team_id"),
            Job.user_id == bindparam("user_id"),
            Job.created_at > bindparam("since", type_=columns["created_at"].type),
        )
        .limit(bindparam("limit"))
        .subquery()
    )
    recent = select(func.count()).select_from(window).scalar_subquery()
    row = select(*(bindparam(n, type_=columns[n].type).label(n) for n in names)).where(
        recent < bindparam("limit")
    )
    return insert(cast(Table, Job.__table__)).from_select(names, row).returning(columns["id"])


def get_job(session: Session, job_id: int) -> Job | None:
    return session.get(Job, job_id)


def the_job(session: Session, job_id: int) -> Job:
    """A job the caller saw earlier in its flow (jobs are not deleted while running)."""
    return stored(session, Job, job_id)


def lock_job(session: Session, job_id: int) -> Job | None:
    """The job, locked for this transaction: an UPDATE first takes the row lock on PostgreSQL
    and the write lock on SQLite, so concurrent callers merge their parts one after another."""
    session.execute(update(Job).where(Job.id == job_id).values(updated_at=Job.updated_at))
    return session.get(Job, job_id, populate_existing=True)


def job_post_count(session: Session, job_id: int) -> int:
    return int(
        session.scalar(select(func.count()).select_from(JobPost).where(JobPost.job_id == job_id))
        or 0
    )


def jobs_for_team(session: Session, team_id: str) -> list[Job]:
    return list(session.scalars(select(Job).where(Job.team_id == team_id).order_by(Job.id)))


def advance_job(session: Session, job: Job, *, stage: str, state: str = JobState.STARTED) -> None:
    job.stage = stage
    job.state = state
    job.updated_at = utcnow()
    if state in (JobState.DONE, JobState.FAILED):
        job.finished_at = job.updated_at
        # A finished job has no holder, whichever straggler (a re-sent stage) beat last.
        job.worker, job.heartbeat_at = None, None


def stuck_jobs(
    session: Session,
    *,
    queued_before: datetime,
    started_before: datetime,
    silent_before: datetime,
    limit: int = 100,
) -> list[Job]:
    """Lost broker messages and dead workers: jobs never picked up since `queued_before`;
    stages whose worker has not said it is alive since `silent_before`; and stages held by no
    worker (between two stages) untouched since `started_before`."""
    started = Job.state == JobState.STARTED
    stmt = (
        select(Job)
        .where(
            or_(
                (Job.state == JobState.QUEUED) & (Job.updated_at < queued_before),
                started & (Job.heartbeat_at < silent_before),
                started & Job.heartbeat_at.is_(None) & (Job.updated_at < started_before),
            )
        )
        .order_by(Job.updated_at)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def touch_job(session: Session, job_id: int, now: datetime) -> None:
    """The job's stage is being sent again: count the attempt, and forget a silent worker."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(updated_at=now, attempts=Job.attempts + 1, worker=None, heartbeat_at=None)
    )


def beat(
    session: Session, job_id: int, worker: str, now: datetime, stage: str | None = None
) -> None:
    """`worker` holds the job's current stage (`stage`, when given: a beat that comes after
    the stage moved on holds nothing) and is alive at `now`."""
    held = [Job.stage == stage] if stage is not None else []
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state.in_(UNFINISHED), *held)
        .values(worker=worker, heartbeat_at=now)
    )


def release(session: Session, job_id: int, worker: str) -> None:
    """`worker` finished (or failed) its stage: nobody holds the job until the next one starts."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker == worker)
        .values(worker=None, heartbeat_at=None)
    )


def link_job_posts(session: Session, job_id: int, post_ids: Sequence[int]) -> None:
    if not post_ids:
        return
    stmt = dialect_insert(session, JobPost.__table__).on_conflict_do_nothing(
        index_elements=["job_id", "post_id"]
    )
    session.execute(stmt, [{"job_id": job_id, "post_id": pid} for pid in set(post_ids)])


def unscored_job_posts(
    session: Session, job_id: int, model: str, limit: int = 500
) -> list[tuple[int, str, str | None]]:
    """(id, text, language) of the job's posts with no score under `model` yet."""
    scored = select(Score.post_id).where(Score.model == model)
    stmt = (
        select(Post.id, Post.text, Post.lang)
        .join(JobPost, JobPost.post_id == Post.id)
        .where(JobPost.job_id == job_id, Post.id.not_in(scored))
        .order_by(Post.id)
        .limit(limit)
    )
    return [(row.id, row.text, row.lang) for row in session.execute(stmt)]


@dataclass(frozen=True)
class ScoredPost:
    source: str
    text: str
    url: str | None
    engagement: int
    sentiment: Sentiment
    posted_at: datetime | None = None
    author: str | None = None
    post_id: int | None = None
    lang: str | None = None


def scored_job_posts(session: Session, job: Job) -> list[ScoredPost]:
    """The job's posts with their scores under the job's model, scoped by the job's team."""
    stmt = (
        select(Post, Score, Correction.label)
        .join(JobPost, JobPost.post_id == Post.id)
        .join(Job, Job.id == JobPost.job_id)
        .join(Score, (Score.post_id == Post.id) & (Score.model == job.model))
        .outerjoin(
            Correction, (Correction.post_id == Post.id) & (Correction.team_id == job.team_id)
        )
        .where(JobPost.job_id == job.id, Job.team_id == job.team_id, Score.label != UNSCORED)
        .order_by(Post.id)
    )
    out = []
    for post, score, correction in session.execute(stmt):
        sentiment = corrected(
            Sentiment(score.label, score.compound, score.negative, score.neutral, score.positive),
            correction,
        )
        if sentiment is None:
            continue
        out.append(
            ScoredPost(
                source=post.source,
                text=post.text,
                url=post.url,
                engagement=post.engagement,
                posted_at=post.posted_at or post.collected_at,
                author=post.author,
                sentiment=sentiment,
                post_id=post.id,
                lang=post.lang,
            )
        )
    return out


def job_languages(session: Session, job: Job) -> tuple[dict[str, int], int]:
    """The job's posts per language ("?" where none is known), and how many its model left
    unscored for their language."""
    rows = session.execute(
        select(Post.lang, Score.label)
        .join(JobPost, JobPost.post_id == Post.id)
        .outerjoin(Score, (Score.post_id == Post.id) & (Score.model == job.model))
        .where(JobPost.job_id == job.id)
    )
    languages: dict[str, int] = {}
    unscored = 0
    for lang, label in rows:
        languages[lang or "?"] = languages.get(lang or "?", 0) + 1
        unscored += label == UNSCORED
    return dict(sorted(languages.items(), key=lambda kv: -kv[1])), unscored


def job_posts(session: Session, job_id: int) -> list[Post]:
    """Every post linked to the job, scored or not."""
    return list(
        session.scalars(
            select(Post).join(JobPost, JobPost.post_id == Post.id).where(JobPost.job_id == job_id)
        )
    )


def set_source_reports(job: Job, reports: dict[str, Any]) -> None:
    job.source_reports = dict(reports)
