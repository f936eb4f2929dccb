"""A new watch's backfill, as plain functions over a database session (the task is thin).

    run = begin(session, backfill_id, now)             # claim it; watch, query, X approval
    go = price_x(session, run, estimate, ...)          # X only: say the cost, or ask first
    reserve_x(session, run, ...)                       # X only: the reads, under the cap
    collection = collect(...)                          # the network, no transaction open
    ended = finish(session, run, collection, ...)      # posts linked; history moved back

Every source reads from `since` on (its `cursor_at`), or newest first keeping what is recent
enough; the limit per source bounds the cost; a source that fails is retried by the dispatcher
a few times and then reported, never blocking the watch's live runs, which run on their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sentibot.sources import Collection, ReportStatus, sources
from sentibot.storage import backfills as store
from sentibot.storage import posts as post_store
from sentibot.storage import watches as watch_store
from sentibot.storage import x_usage
from sentibot.storage.models import Backfill, BackfillState, Watch
from sentibot.storage.statements import row as stored

X = "x"


@dataclass
class BackfillRun:
    backfill_id: int
    watch_id: int
    team_id: str
    channel_id: str
    topic: str
    source: str
    since: datetime
    approved: bool
    # Where reading starts: `since`, or later when a removed watch's history was re-linked.
    read_from: datetime
    x_reserved: int = 0

    @property
    def cursor(self) -> str | None:
        spec = sources().get(self.source)
        return spec.cursor_at(self.read_from) if spec and spec.cursor_at else None


def reaches() -> dict[str, timedelta | None]:
    return {name: spec.reach for name, spec in sources().items()}


def plan(session: Session, watch: Watch, back_s: int, now: datetime) -> list[Backfill]:
    """Backfills for a new watch (none when `back_s` is 0)."""
    if back_s <= 0:
        return []
    return store.plan(session, watch, timedelta(seconds=back_s), reaches(), now)


def begin(session: Session, backfill_id: int, now: datetime) -> BackfillRun | None:
    started = store.start(session, backfill_id, now)
    if started is None:
        return None
    row, approved = started
    watch = session.get(Watch, row.watch_id)
    if watch is None:
        return None
    return BackfillRun(
        backfill_id=row.id,
        watch_id=watch.id,
        team_id=watch.team_id,
        channel_id=watch.channel_id,
        topic=watch.topic,
        source=row.source,
        since=row.since,
        approved=approved,
        read_from=row.read_from or row.since,
    )


@dataclass(frozen=True)
class Price:
    go: bool  # read now; otherwise wait for the question's answer
    estimate: int
    used: int


def price_x(
    session: Session,
    run: BackfillRun,
    estimate: int,
    *,
    limit: int,
    cap: int,
    share: float,
    now: datetime,
) -> Price:
    """X's cost, known before spending: when it and the workspace's other backfills of the day
    come to more than `share` of the daily cap the backfill waits for a person to approve it
    (twelve watches each under the share spent the whole day's cap); below, it goes on (the
    channel is told either way)."""
    row = stored(session, Backfill, run.backfill_id)
    estimate = min(estimate, limit)
    used = x_usage.x_read_today(session, run.team_id, now)
    earlier = store.x_backfill_today(session, run.team_id, now)
    if earlier + estimate > share * cap:
        store.ask(session, row, estimate)
        return Price(False, estimate, used)
    row.estimate = estimate
    return Price(True, estimate, used)


def reserve_x(session: Session, run: BackfillRun, want: int, cap: int, now: datetime) -> int:
    run.x_reserved = x_usage.reserve_x_reads(session, run.team_id, want, cap, now)
    return run.x_reserved


def skip(
    session: Session, run: BackfillRun, reason: str, now: datetime, *, lost: bool
) -> list[Backfill] | None:
    """End without reading: `lost` when the watch misses that history (a refusal, a cap),
    else when there was nothing to miss (the source is not configured)."""
    row = stored(session, Backfill, run.backfill_id)
    store.finish(
        session,
        row,
        BackfillState.SKIPPED,
        now,
        reached=None if lost else run.since,
        reason=reason,
    )
    return store.settle_history(session, run.watch_id)


def fail(session: Session, backfill_id: int, reason: str, now: datetime) -> list[Backfill] | None:
    """A read that failed: sent again by the dispatcher until MAX_ATTEMPTS, then reported."""
    row = session.get(Backfill, backfill_id)
    if row is None:
        return None
    if row.attempts < store.MAX_ATTEMPTS:
        row.state, row.reason = BackfillState.PLANNED, reason
        return None
    store.finish(session, row, BackfillState.FAILED, now, reason=reason)
    return store.settle_history(session, row.watch_id)


def finish(
    session: Session, run: BackfillRun, collection: Collection, limit: int, now: datetime
) -> list[Backfill] | None:
    """Store and link what was read from `since` on; the backfills of the watch once all
    ended (the watch's history then starts where every source reached), else None."""
    if run.x_reserved:
        x_usage.settle_x_reads(
            session, run.team_id, run.x_reserved, collection.billed.get(X, 0), now
        )
    report = collection.reports[run.source]
    if report.status != ReportStatus.OK:
        return fail(session, run.backfill_id, report.reason or report.status, now)
    if watch_store.get_watch(session, run.watch_id) is None:
        return None
    read = collection.posts
    kept = [p for p in read if p.created_at is None or p.created_at >= run.read_from]
    watch_store.link_watch_posts(session, run.watch_id, post_store.store_posts(session, kept))
    dated = [p.created_at for p in kept if p.created_at is not None]
    # Cut short by the limit: complete only back to the oldest post read.
    reached = min(dated) if len(read) >= limit and dated else run.since
    row = stored(session, Backfill, run.backfill_id)
    store.finish(
        session,
        row,
        BackfillState.DONE,
        now,
        posts=len(kept),
        reached=reached,
        reason=report.reason,
    )
    return store.settle_history(session, run.watch_id)
