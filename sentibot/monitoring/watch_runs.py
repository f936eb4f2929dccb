"""A scheduled watch run, as plain functions over a database session (the task is a thin wrapper).

    run = begin_run(session, watch_id, ...)        # cursors, X budget reserved   (transaction)
    collection = collect(...)                      # the network, no transaction open
    events = finish_run(session, run, collection) # posts, links, cursors, health (transaction)

A failed source keeps its cursor, so its posts are asked for again next run; nothing is lost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sentibot.monitoring import source_health
from sentibot.query import Query
from sentibot.sources import Batch, Collection, Collector, ReportStatus, SourceSkipped
from sentibot.storage import posts as post_store
from sentibot.storage import watches as watch_store
from sentibot.storage import x_usage

X = "x"


@dataclass
class WatchRun:
    watch_id: int
    team_id: str
    channel_id: str
    topic: str
    sources: list[str]
    interval_s: int
    cursors: dict[str, str | None] = field(default_factory=dict)
    x_reserved: int = 0


# A run's read of one source that has been out this long lost its worker: read it again.
READ_CLAIM_STALE = timedelta(minutes=10)


def begin_run(
    session: Session,
    watch_id: int,
    *,
    limit: int,
    x_cap: int,
    now: datetime,
    source: str | None = None,
) -> WatchRun | None:
    """Load what the run needs and reserve its X reads; None if the watch is gone (or no
    longer reads `source`). With `source`, the run is that source's part only."""
    watch = watch_store.get_watch(session, watch_id)
    if watch is None or (source is not None and source not in watch.sources):
        return None
    if source is not None and not watch_store.claim_read(
        session, watch_id, source, now, READ_CLAIM_STALE
    ):
        return None  # this source's run is being read already (a redelivered message)
    states = watch_store.source_states(session, watch_id)
    sources = [source] if source is not None else list(watch.sources)
    run = WatchRun(
        watch_id=watch.id,
        team_id=watch.team_id,
        channel_id=watch.channel_id,
        topic=watch.topic,
        sources=sources,
        interval_s=watch.interval_s,
        cursors={name: states[name].cursor if name in states else None for name in sources},
    )
    if X in run.sources:
        run.x_reserved = x_usage.reserve_x_reads(session, watch.team_id, limit, x_cap, now)
    return run


def x_budgeted(
    collectors: Mapping[str, Collector | SourceSkipped], reserved: int, cap: int
) -> dict[str, Collector | SourceSkipped]:
    """Collectors with X limited to the reads reserved for it (or skipped at the cap)."""
    out = dict(collectors)
    x = out.get(X)
    if x is not None and not isinstance(x, SourceSkipped):
        if reserved <= 0:
            out[X] = SourceSkipped(
                f"daily X read cap reached (X_DAILY_POST_CAP={cap}); it resets at 00:00 UTC"
            )
        else:
            out[X] = _Capped(x, reserved)
    return out


class _Capped:
    def __init__(self, inner: Collector, cap: int) -> None:
        self.inner = inner
        self.name = inner.name
        self.cap = cap

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        return self.inner.collect(query, min(limit, self.cap), cursor)


def finish_run(
    session: Session, run: WatchRun, collection: Collection, now: datetime
) -> list[source_health.Event]:
    """Store and link the posts, advance cursors, settle X spend, update each source's health;
    returns the health changes the channel should hear about (at most one per source)."""
    if watch_store.get_watch(session, run.watch_id) is None:  # unwatched while collecting
        if run.x_reserved:
            x_usage.settle_x_reads(
                session, run.team_id, run.x_reserved, collection.billed.get(X, 0), now
            )
        return []
    ids = post_store.store_posts(session, collection.posts)
    by_key = {(p.source, p.external_id): p for p in collection.posts}
    watch_store.link_watch_posts(session, run.watch_id, ids)
    if X in run.sources and run.x_reserved:
        x_usage.settle_x_reads(
            session, run.team_id, run.x_reserved, collection.billed.get(X, 0), now
        )
    events = []
    for name, report in collection.reports.items():
        state = watch_store.source_state(session, run.watch_id, name)
        new_posts = sum(1 for key in by_key if key[0] == name)
        before = source_health.Before(
            health=state.health,
            posts_total=state.posts_total,
            last_post_at=state.last_post_at,
            last_error_at=state.last_error_at,
        )
        after, event = source_health.after_run(
            name, before, report.status, new_posts, report.reason, now, run.interval_s
        )
        state.health = after
        state.last_run_at = now
        state.reading_since = None
        if report.status == ReportStatus.OK:
            state.last_ok_at = now
            if name in collection.cursors:
                state.cursor = collection.cursors[name]
            if new_posts:
                state.posts_total += new_posts
                state.last_post_at = now
        else:
            state.last_error = report.reason
            if report.status == ReportStatus.FAILED:
                state.last_error_at = now
        if event is not None:
            events.append(event)
    return events
