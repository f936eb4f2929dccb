"""The sentiment processor's queue: unscored posts claimed in batches, re-sent when lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from sentibot.storage.models import (
    Post,
    Score,
    ScoreRequest,
    Watch,
    WatchPost,
)
from sentibot.storage.statements import dialect_insert

# Ids per IN (…) list: well under PostgreSQL's 65,535 bind parameters per statement.
_CHUNK = 1000


def claim_unscored(
    session: Session,
    now: datetime,
    stale_after: timedelta,
    batch: int,
    max_batches: int,
    max_attempts: int,
) -> list[tuple[str, list[int]]]:
    """Posts linked to a watch with no score under the watch's model and no live request:
    record a request for each and return them as (model, post ids) batches.

    A request older than `stale_after` (its message was lost, or scoring failed) is renewed,
    up to `max_attempts` sends; after that the post stays unscored.
    """
    scored = exists().where(Score.post_id == WatchPost.post_id, Score.model == Watch.model)
    requested = exists().where(
        ScoreRequest.post_id == WatchPost.post_id,
        ScoreRequest.model == Watch.model,
        (ScoreRequest.requested_at >= now - stale_after) | (ScoreRequest.attempts >= max_attempts),
    )
    rows = session.execute(
        select(Watch.model, WatchPost.post_id)
        .join(Watch, Watch.id == WatchPost.watch_id)
        .where(~scored, ~requested)
        .distinct()
        # Newest stored first: a live run's posts go ahead of a backlog (a backfill's history).
        .order_by(WatchPost.post_id.desc())
        .limit(batch * max_batches)
    ).all()
    by_model: dict[str, list[int]] = {}
    for model, post_id in rows:
        by_model.setdefault(model, []).append(post_id)
    batches: list[tuple[str, list[int]]] = []
    for model, ids in by_model.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            sent_before = dict(
                session.execute(
                    delete(ScoreRequest)
                    .where(ScoreRequest.model == model, ScoreRequest.post_id.in_(chunk))
                    .returning(ScoreRequest.post_id, ScoreRequest.attempts)
                ).all()
            )
            session.execute(
                dialect_insert(session, ScoreRequest.__table__),
                [
                    {
                        "post_id": pid,
                        "model": model,
                        "requested_at": now,
                        "attempts": sent_before.get(pid, 0) + 1,
                    }
                    for pid in chunk
                ],
            )
        batches.extend((model, ids[i : i + batch]) for i in range(0, len(ids), batch))
    return batches


def posts_to_score(
    session: Session, model: str, post_ids: Sequence[int]
) -> list[tuple[int, str, str | None]]:
    """Of `post_ids`, those still without a score under `model`, with text and language."""
    scored = select(Score.post_id).where(Score.model == model, Score.post_id.in_(post_ids))
    rows = session.execute(
        select(Post.id, Post.text, Post.lang).where(Post.id.in_(post_ids), Post.id.not_in(scored))
    )
    return [(r.id, r.text, r.lang) for r in rows]


def finish_score_requests(session: Session, model: str, post_ids: Sequence[int]) -> None:
    session.execute(
        delete(ScoreRequest).where(ScoreRequest.model == model, ScoreRequest.post_id.in_(post_ids))
    )


def unscored_count(session: Session) -> int:
    """Posts some watch needs scored that have no score under its model yet."""
    scored = exists().where(Score.post_id == WatchPost.post_id, Score.model == Watch.model)
    stmt = (
        select(func.count(func.distinct(WatchPost.post_id)))
        .join(Watch, Watch.id == WatchPost.watch_id)
        .where(~scored)
    )
    return int(session.scalar(stmt) or 0)
