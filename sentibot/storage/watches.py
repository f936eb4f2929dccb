"""Watches: create/list/remove, due-time claims, per-source cursors and health, linked posts.
Every read a user sees is team-scoped."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sentibot.storage.models import (
    Backfill,
    BackfillState,
    KeptHistory,
    Post,
    SourceHealth,
    SourceState,
    Watch,
    WatchPost,
)
from sentibot.storage.statements import compare_and_set, dialect_insert, fair_due, rows_changed
from sentibot.storage.workspaces import ensure_workspace
from sentibot.topic_scope import scored_as

# Ids per IN (…) list: well under PostgreSQL's 65,535 bind parameters per statement.
_CHUNK = 1000

# What a removed watch had read stays re-linkable this long (X reaches back only 7 days).
KEEP_HISTORY_FOR = timedelta(days=30)


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
    watch = channel_watch(session, team_id, channel_id, topic)
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
    watch.model = scored_as(model, topic)
    session.flush()
    return watch, created


def remove_watch(
    session: Session, team_id: str, channel_id: str, topic: str, now: datetime
) -> bool:
    watch = channel_watch(session, team_id, channel_id, topic)
    if watch is None:
        return False
    watch_id = watch.id
    keep_history(session, watch, now)
    # Explicit deletes: SQLite only cascades with foreign keys switched on.
    session.execute(delete(WatchPost).where(WatchPost.watch_id == watch_id))
    session.execute(delete(SourceState).where(SourceState.watch_id == watch_id))
    session.execute(delete(Backfill).where(Backfill.watch_id == watch_id))
    session.execute(delete(Watch).where(Watch.id == watch_id))
    return True


def keep_history(session: Session, watch: Watch, now: datetime) -> None:
    """Keep, per source, which posts the watch holds and from when they are complete (where
    its backfill reached, else its creation): watching the topic again re-links them."""
    reached = dict(
        session.execute(
            select(Backfill.source, Backfill.reached).where(
                Backfill.watch_id == watch.id,
                Backfill.state == BackfillState.DONE,
                Backfill.reached.is_not(None),
            )
        ).all()
    )
    held: dict[str, list[int]] = {source: [] for source in watch.sources}
    rows = session.execute(
        select(Post.source, Post.id)
        .join(WatchPost, WatchPost.post_id == Post.id)
        .where(WatchPost.watch_id == watch.id)
    )
    for source, post_id in rows:
        held.setdefault(source, []).append(post_id)
    for source, post_ids in held.items():
        session.add(
            KeptHistory(
                team_id=watch.team_id,
                topic=watch.topic,
                source=source,
                since=min(reached.get(source) or watch.created_at, watch.created_at),
                until=now,
                post_ids=post_ids,
            )
        )
    session.execute(delete(KeptHistory).where(KeptHistory.until < now - KEEP_HISTORY_FOR))


def channel_watches(session: Session, team_id: str, channel_id: str) -> list[Watch]:
    return list(
        session.scalars(
            select(Watch)
            .where(Watch.team_id == team_id, Watch.channel_id == channel_id)
            .order_by(Watch.topic)
        )
    )


def channel_watch(session: Session, team_id: str, channel_id: str, topic: str) -> Watch | None:
    """The channel's watch of exactly this topic, if it has one."""
    return session.scalar(
        select(Watch).where(
            Watch.team_id == team_id, Watch.channel_id == channel_id, Watch.topic == topic
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
        fair_due(
            [Watch.id, Watch.next_run_at, Watch.interval_s],
            Watch.team_id,
            Watch.next_run_at,
            now,
            limit,
        )
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
        state = SourceState(watch_id=watch_id, source=source, health=SourceHealth.OK, posts_total=0)
        session.add(state)
        session.flush()
    return state


def claim_read(
    session: Session, watch_id: int, source: str, now: datetime, stale: timedelta
) -> bool:
    """Whether this run may read `source` of the watch now: no other run is reading it (or
    the one that was has been silent for `stale`, its worker lost)."""
    source_state(session, watch_id, source)
    claimed = session.execute(
        update(SourceState)
        .where(
            SourceState.watch_id == watch_id,
            SourceState.source == source,
            (SourceState.reading_since.is_(None)) | (SourceState.reading_since < now - stale),
        )
        .values(reading_since=now)
    )
    return rows_changed(claimed) == 1


def release_read(session: Session, watch_id: int, source: str) -> None:
    session.execute(
        update(SourceState)
        .where(SourceState.watch_id == watch_id, SourceState.source == source)
        .values(reading_since=None)
    )


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
            stmt = dialect_insert(session, WatchPost.__table__).on_conflict_do_nothing(
                index_elements=["watch_id", "post_id"]
            )
            session.execute(stmt, [{"watch_id": watch_id, "post_id": pid} for pid in new])
        added += len(new)
    return added
