"""Named queries for watches: create/list/remove, due-time claims, cursors, X spend, notices,
and the sentiment processor's queue of unscored posts. Every read a user sees is team-scoped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from sentibot.storage.models import (
    Notice,
    Post,
    Score,
    ScoreRequest,
    SourceState,
    Watch,
    WatchPost,
    XUsage,
    utcnow,
)
from sentibot.storage.queries import _insert, compare_and_set, ensure_workspace

# Ids per IN (…) list: well under PostgreSQL's 65,535 bind parameters per statement.
_CHUNK = 1000


def upsert_watch(
    session: Session,
    *,
    team_id: str,
    channel_id: str,
    topic: str,
    sources: Sequence[str],
    every_s: int,
    model: str,
    user_id: str | None,
    now: datetime,
) -> tuple[Watch, bool]:
    """The channel's watch on `topic`, created (due now) or updated; True when created."""
    ensure_workspace(session, team_id)
    watch = session.scalar(
        select(Watch).where(
            Watch.team_id == team_id, Watch.channel_id == channel_id, Watch.topic == topic
        )
    )
    created = watch is None
    if watch is None:
        watch = Watch(
            team_id=team_id,
            channel_id=channel_id,
            topic=topic,
            created_by=user_id,
            created_at=now,
            next_run_at=now,
        )
        session.add(watch)
    elif every_s < watch.interval_s:
        watch.next_run_at = min(watch.next_run_at, now + timedelta(seconds=every_s))
    watch.sources = list(sources)
    watch.interval_s = every_s
    watch.model = model
    session.flush()
    return watch, created


def remove_watch(session: Session, team_id: str, channel_id: str, topic: str) -> bool:
    watch_id = session.scalar(
        select(Watch.id).where(
            Watch.team_id == team_id, Watch.channel_id == channel_id, Watch.topic == topic
        )
    )
    if watch_id is None:
        return False
    # Explicit deletes: SQLite only cascades with foreign keys switched on.
    session.execute(delete(WatchPost).where(WatchPost.watch_id == watch_id))
    session.execute(delete(SourceState).where(SourceState.watch_id == watch_id))
    session.execute(delete(Watch).where(Watch.id == watch_id))
    return True


def channel_watches(session: Session, team_id: str, channel_id: str) -> list[Watch]:
    return list(
        session.scalars(
            select(Watch)
            .where(Watch.team_id == team_id, Watch.channel_id == channel_id)
            .order_by(Watch.topic)
        )
    )


def team_watches(session: Session, team_id: str) -> list[Watch]:
    return list(
        session.scalars(
            select(Watch).where(Watch.team_id == team_id).order_by(Watch.channel_id, Watch.topic)
        )
    )


def get_watch(session: Session, watch_id: int) -> Watch | None:
    return session.get(Watch, watch_id)


def watch_post_counts(
    session: Session, watch_ids: Sequence[int], since: datetime
) -> dict[int, int]:
    if not watch_ids:
        return {}
    rows = session.execute(
        select(WatchPost.watch_id, func.count())
        .join(Post, Post.id == WatchPost.post_id)
        .where(WatchPost.watch_id.in_(watch_ids), Post.collected_at >= since)
        .group_by(WatchPost.watch_id)
    )
    return {wid: n for wid, n in rows}


def claim_due_watches(session: Session, now: datetime, limit: int = 100) -> list[int]:
    """Watches due at `now`, each claimed by moving its due time one interval past `now`.

    The move is a compare-and-set on the old due time, so two dispatchers never claim the same
    run, and a watch overdue by many intervals (an outage) runs once, not once per interval.
    """
    due = session.execute(
        select(Watch.id, Watch.next_run_at, Watch.interval_s)
        .where(Watch.next_run_at <= now)
        .order_by(Watch.next_run_at)
        .limit(limit)
    ).all()
    return [
        watch_id
        for watch_id, due_at, interval_s in due
        if compare_and_set(
            session,
            Watch.next_run_at,
            watch_id,
            due_at,
            next_run_at=now + timedelta(seconds=interval_s),
            last_run_at=now,
        )
    ]


def source_states(session: Session, watch_id: int) -> dict[str, SourceState]:
    rows = session.scalars(select(SourceState).where(SourceState.watch_id == watch_id))
    return {s.source: s for s in rows}


def source_state(session: Session, watch_id: int, source: str) -> SourceState:
    state = session.get(SourceState, (watch_id, source))
    if state is None:
        state = SourceState(watch_id=watch_id, source=source, health="ok", posts_total=0)
        session.add(state)
        session.flush()
    return state


def link_watch_posts(session: Session, watch_id: int, post_ids: Sequence[int]) -> int:
    """Link posts to the watch; returns how many were new to it."""
    unique = sorted(set(post_ids))
    added = 0
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start : start + _CHUNK]
        known = set(
            session.scalars(
                select(WatchPost.post_id).where(
                    WatchPost.watch_id == watch_id, WatchPost.post_id.in_(chunk)
                )
            )
        )
        new = [pid for pid in chunk if pid not in known]
        if new:
            stmt = _insert(session, WatchPost.__table__).on_conflict_do_nothing(
                index_elements=["watch_id", "post_id"]
            )
            session.execute(stmt, [{"watch_id": watch_id, "post_id": pid} for pid in new])
        added += len(new)
    return added


# X spend ------------------------------------------------------------------------------------


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
    stmt = _insert(session, XUsage.__table__).values(team_id=team_id, day=_day(now), posts_read=0)
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
        if result.rowcount == 1:
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


# Notices ------------------------------------------------------------------------------------


def add_notice(session: Session, team_id: str, channel_id: str, kind: str, text: str) -> Notice:
    notice = Notice(
        team_id=team_id, channel_id=channel_id, kind=kind, text=text, created_at=utcnow()
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
        .values(claimed_at=now)
    )
    if result.rowcount != 1:
        return None
    return session.get(Notice, notice_id)


def unsent_notices(session: Session, older_than: datetime, limit: int = 100) -> list[int]:
    return list(
        session.scalars(
            select(Notice.id)
            .where(Notice.sent_at.is_(None), Notice.created_at < older_than)
            .where((Notice.claimed_at.is_(None)) | (Notice.claimed_at < older_than))
            .order_by(Notice.id)
            .limit(limit)
        )
    )


def channel_notices(session: Session, team_id: str, channel_id: str) -> list[Notice]:
    return list(
        session.scalars(
            select(Notice)
            .where(Notice.team_id == team_id, Notice.channel_id == channel_id)
            .order_by(Notice.id)
        )
    )


# The sentiment processor ---------------------------------------------------------------------


def claim_unscored(
    session: Session, now: datetime, stale_after: timedelta, batch: int, max_batches: int
) -> list[tuple[str, list[int]]]:
    """Posts linked to a watch with no score under the watch's model and no live request:
    record a request for each and return them as (model, post ids) batches.

    A request older than `stale_after` (its message was lost) is renewed.
    """
    scored = exists().where(Score.post_id == WatchPost.post_id, Score.model == Watch.model)
    requested = exists().where(
        ScoreRequest.post_id == WatchPost.post_id,
        ScoreRequest.model == Watch.model,
        ScoreRequest.requested_at >= now - stale_after,
    )
    rows = session.execute(
        select(Watch.model, WatchPost.post_id)
        .join(Watch, Watch.id == WatchPost.watch_id)
        .where(~scored, ~requested)
        .distinct()
        .order_by(WatchPost.post_id)
        .limit(batch * max_batches)
    ).all()
    by_model: dict[str, list[int]] = {}
    for model, post_id in rows:
        by_model.setdefault(model, []).append(post_id)
    batches = []
    for model, ids in by_model.items():
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            session.execute(
                delete(ScoreRequest).where(
                    ScoreRequest.model == model, ScoreRequest.post_id.in_(chunk)
                )
            )
            session.execute(
                _insert(session, ScoreRequest.__table__),
                [{"post_id": pid, "model": model, "requested_at": now} for pid in chunk],
            )
        batches.extend((model, ids[i : i + batch]) for i in range(0, len(ids), batch))
    return batches


def posts_to_score(session: Session, model: str, post_ids: Sequence[int]) -> list[tuple[int, str]]:
    """Of `post_ids`, those still without a score under `model`, with their text."""
    scored = select(Score.post_id).where(Score.model == model, Score.post_id.in_(post_ids))
    rows = session.execute(
        select(Post.id, Post.text).where(Post.id.in_(post_ids), Post.id.not_in(scored))
    )
    return [(r.id, r.text) for r in rows]


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
