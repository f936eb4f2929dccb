"""Posts and their scores: stored once per (source, external id), and read by time window."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from sentibot.sentiment import UNSCORED, Sentiment
from sentibot.sources import Post as CollectedPost
from sentibot.storage.corrections import OFF_TOPIC, corrected
from sentibot.storage.models import (
    Correction,
    Post,
    Score,
    Watch,
    WatchPost,
    utcnow,
)
from sentibot.storage.statements import dialect_insert

log = logging.getLogger(__name__)

_BATCH = 500


def store_posts(session: Session, posts: Sequence[CollectedPost]) -> list[int]:
    """Insert posts once per (source, external id); return the row ids of those stored.

    A batch the database refuses is tried again post by post, each in its own savepoint: the
    post that cannot be stored is skipped (and logged), never the batch."""
    ids: list[int] = []
    for start in range(0, len(posts), _BATCH):
        batch = _dedupe(posts[start : start + _BATCH])
        try:
            with session.begin_nested():
                ids.extend(_insert_batch(session, batch))
        except (StatementError, UnicodeError):
            for post in batch:
                try:
                    with session.begin_nested():
                        ids.extend(_insert_batch(session, [post]))
                except (StatementError, UnicodeError) as exc:
                    log.warning(
                        "post %s:%s skipped: the database refused it (%s)",
                        post.source,
                        post.external_id[:64],
                        type(getattr(exc, "orig", None) or exc).__name__,
                    )
    return ids


def _insert_batch(session: Session, batch: Sequence[CollectedPost]) -> list[int]:
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
    stmt = dialect_insert(session, Post.__table__).on_conflict_do_nothing(
        index_elements=["source", "external_id"]
    )
    session.execute(stmt, rows)
    by_source: dict[str, list[str]] = {}
    for p in batch:
        by_source.setdefault(p.source, []).append(p.external_id)
    # One equality and one IN list per source: both backends walk the unique index
    # (a row-value IN over (source, external_id) is a sequential scan on PostgreSQL).
    ids: list[int] = []
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


def store_scores(session: Session, model: str, scored: Sequence[tuple[int, Sentiment]]) -> None:
    if not scored:
        return
    stmt = dialect_insert(session, Score.__table__).on_conflict_do_nothing(
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
    author: str | None = None
    post_id: int | None = None
    lang: str | None = None


def window_posts(
    session: Session, watch: Watch, start: datetime, end: datetime
) -> list[WindowPost]:
    """The watch's scored posts that happened in [start, end), as the watch's workspace
    corrected them (a post it said is off topic is left out)."""
    rows = session.execute(
        select(Post, Score, POSTED.label("at"), Correction.label)
        .join(WatchPost, WatchPost.post_id == Post.id)
        .join(Score, (Score.post_id == Post.id) & (Score.model == watch.model))
        .outerjoin(
            Correction, (Correction.post_id == Post.id) & (Correction.team_id == watch.team_id)
        )
        .where(
            WatchPost.watch_id == watch.id,
            POSTED >= start,
            POSTED < end,
            Score.label != UNSCORED,
        )
        .order_by(Post.id)
    )
    out = []
    for post, score, at, correction in rows:
        sentiment = corrected(
            Sentiment(score.label, score.compound, score.negative, score.neutral, score.positive),
            correction,
        )
        if sentiment is None:
            continue
        when = at if isinstance(at, datetime) else post.posted_at or post.collected_at
        out.append(
            WindowPost(
                when=when,
                source=post.source,
                text=post.text,
                url=post.url,
                engagement=post.engagement,
                sentiment=sentiment,
                lang=post.lang,
                author=post.author,
                post_id=post.id,
            )
        )
    return out


def _off_topic(watch: Watch) -> ColumnElement[bool]:
    """The watch's workspace said the post is not about the topic."""
    return exists().where(
        Correction.post_id == Post.id,
        Correction.team_id == watch.team_id,
        Correction.label == OFF_TOPIC,
    )


def window_counts(
    session: Session, watch: Watch, windows: Sequence[tuple[datetime, datetime]]
) -> list[int | None]:
    """Posts per window (less those the workspace said are off topic); None for windows that
    began before the watch's history (its creation, or as far back as its backfill read every
    source)."""
    out: list[int | None] = []
    for start, end in windows:
        if start < watch.history_start:
            out.append(None)
            continue
        n = session.scalar(
            select(func.count())
            .select_from(WatchPost)
            .join(Post, Post.id == WatchPost.post_id)
            .where(WatchPost.watch_id == watch.id, POSTED >= start, POSTED < end)
            .where(~_off_topic(watch))
        )
        out.append(int(n or 0))
    return out


@dataclass(frozen=True)
class ExportedPost:
    post_id: int
    when: datetime
    source: str
    author: str | None
    text: str
    url: str | None
    lang: str | None
    engagement: int
    label: str | None  # None: not scored yet
    compound: float | None


def all_window_posts(
    session: Session, watch: Watch, start: datetime, end: datetime
) -> list[ExportedPost]:
    """Every post of the watch in [start, end), scored or not (an export holds them all)."""
    rows = session.execute(
        select(Post, Score.label, Score.compound, POSTED.label("at"))
        .join(WatchPost, WatchPost.post_id == Post.id)
        .outerjoin(Score, (Score.post_id == Post.id) & (Score.model == watch.model))
        .where(WatchPost.watch_id == watch.id, POSTED >= start, POSTED < end)
        .order_by(POSTED, Post.id)
    )
    return [
        ExportedPost(
            post_id=post.id,
            when=at if isinstance(at, datetime) else post.posted_at or post.collected_at,
            source=post.source,
            author=post.author,
            text=post.text,
            url=post.url,
            lang=post.lang,
            engagement=post.engagement,
            label=label,
            compound=compound,
        )
        for post, label, compound, at in rows
    ]
