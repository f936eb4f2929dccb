"""Backfills: one row per (new watch, source), claimed by the dispatcher, run by a low-priority
task; when the last one of a watch ends, the watch's complete history starts earlier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from sentibot.storage.models import Backfill, BackfillState, KeptHistory, Post, Watch
from sentibot.storage.statements import compare_and_set, paused_teams
from sentibot.storage.watches import link_watch_posts

S = BackfillState
FINISHED = (S.DONE, S.FAILED, S.SKIPPED)
# Running but not heard of for this long: its worker was lost.
CLAIM_STALE = timedelta(minutes=10)
# Sent but never started for this long: its message was lost (a queue behind one backfill
# worker holds sent rows for a long while; sending them again every 10 minutes only piled up
# copies: 7,240 messages for 1,809 rows in 40 minutes).
UNSTARTED_STALE = timedelta(hours=2)
MAX_ATTEMPTS = 3


def plan(
    session: Session,
    watch: Watch,
    back: timedelta,
    reaches: Mapping[str, timedelta | None],
    now: datetime,
) -> list[Backfill]:
    """A backfill of each of the watch's sources not read back before, `back` or as far as
    the source reaches."""
    done = set(session.scalars(select(Backfill.source).where(Backfill.watch_id == watch.id)))
    rows = []
    for source in (s for s in watch.sources if s not in done):
        reach = reaches.get(source)
        since = now - (min(back, reach) if reach is not None else back)
        row = Backfill(watch_id=watch.id, source=source, since=since, created_at=now)
        row.read_from = _relink_kept(session, watch, source, since)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def _relink_kept(session: Session, watch: Watch, source: str, since: datetime) -> datetime | None:
    """Where a removed watch of the topic in this workspace held the source's history back to
    `since`, link those posts and return where the read must start (the removal); else None.
    Unwatching and watching again spent the X backfill twice."""
    kept = session.scalars(
        select(KeptHistory)
        .where(
            KeptHistory.team_id == watch.team_id,
            KeptHistory.topic == watch.topic,
            KeptHistory.source == source,
            KeptHistory.since <= since,
            KeptHistory.until > since,
        )
        .order_by(KeptHistory.until.desc())
        .limit(1)
    ).first()
    if kept is None:
        return None
    posted = func.coalesce(Post.posted_at, Post.collected_at)
    for start in range(0, len(kept.post_ids), 1000):
        chunk = kept.post_ids[start : start + 1000]
        recent = session.scalars(select(Post.id).where(Post.id.in_(chunk), posted >= since))
        link_watch_posts(session, watch.id, list(recent))
    return kept.until


def claim_due(session: Session, now: datetime, limit: int = 50) -> list[int]:
    """Backfills to send now: planned or approved ones never sent (or sent so long ago that
    the message was lost), and running ones whose worker went quiet; workspaces take turns
    (one workspace's 200 new watches do not go before another's one). Each is claimed (its
    claim time set) so the next tick does not resend."""
    running_stale, unstarted_stale = now - CLAIM_STALE, now - UNSTARTED_STALE
    turn = func.row_number().over(partition_by=Watch.team_id, order_by=Backfill.id).label("turn")
    candidates = (
        select(Backfill.id.label("id"), Backfill.claimed_at.label("claimed_at"), turn)
        .join(Watch, Watch.id == Backfill.watch_id)
        .where(
            Watch.team_id.not_in(paused_teams()),
            or_(
                and_(
                    Backfill.state.in_((S.PLANNED, S.APPROVED)),
                    Backfill.claimed_at.is_(None) | (Backfill.claimed_at < unstarted_stale),
                ),
                and_(Backfill.state == S.RUNNING, Backfill.claimed_at < running_stale),
            ),
        )
        .subquery()
    )
    due = session.execute(
        select(candidates.c.id, candidates.c.claimed_at)
        .order_by(candidates.c.turn, candidates.c.id)
        .limit(limit)
    ).all()
    return [
        backfill_id
        for backfill_id, claimed_at in due
        if compare_and_set(session, Backfill.claimed_at, backfill_id, claimed_at, claimed_at=now)
    ]


def start(session: Session, backfill_id: int, now: datetime) -> tuple[Backfill, bool] | None:
    """The backfill, now running, and whether its X cost was already approved; None if it is
    finished, waits for a button, or was tried too often (then it is failed here)."""
    row = session.get(Backfill, backfill_id, with_for_update=True)
    if row is None or row.state not in (S.PLANNED, S.APPROVED, S.RUNNING):
        return None
    if row.attempts >= MAX_ATTEMPTS:
        finish(session, row, S.FAILED, now, reason=f"gave up after {row.attempts} attempts")
        return None
    approved = row.state == S.APPROVED or row.estimate is not None
    row.state, row.claimed_at, row.attempts = S.RUNNING, now, row.attempts + 1
    session.flush()
    return row, approved


def ask(session: Session, row: Backfill, estimate: int) -> None:
    """X's cost is above the share: wait for someone to approve it (or skip it)."""
    row.state, row.estimate, row.claimed_at = S.CONFIRM, estimate, None


def x_backfill_today(session: Session, team_id: str, now: datetime) -> int:
    """X reads the workspace's backfills have gone ahead with today (their estimates): what a
    new one's share of the day's cap is counted together with."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    spent = session.scalar(
        select(func.sum(Backfill.estimate))
        .join(Watch, Watch.id == Backfill.watch_id)
        .where(
            Watch.team_id == team_id,
            Backfill.source == "x",
            Backfill.state.in_((S.APPROVED, S.RUNNING, S.DONE)),
            Backfill.estimate.is_not(None),
            (Backfill.claimed_at >= day) | (Backfill.finished_at >= day),
        )
    )
    return int(spent or 0)


def answer(
    session: Session,
    backfill_id: int,
    team_id: str,
    approve: bool,
    now: datetime,
    channel_id: str | None = None,
) -> Backfill | None:
    """A button on the question: approve (the dispatcher sends it again) or skip. None if the
    backfill is not of the workspace and channel the button was pressed in, or no longer
    waits (a button copied to another channel of the workspace decides nothing)."""
    row = session.get(Backfill, backfill_id, with_for_update=True)
    if row is None or row.state != S.CONFIRM:
        return None
    watch = session.get(Watch, row.watch_id)
    if watch is None or watch.team_id != team_id or watch.channel_id != channel_id:
        return None
    if approve:
        row.state, row.claimed_at = S.APPROVED, None
    else:
        finish(session, row, S.SKIPPED, now, reason="skipped: the X cost was declined")
    session.flush()
    return row


def finish(
    session: Session,
    row: Backfill,
    state: BackfillState,
    now: datetime,
    *,
    posts: int = 0,
    reached: datetime | None = None,
    reason: str | None = None,
) -> None:
    """End the backfill. `reached` is how far back its history is complete (None: it is not,
    before the watch began)."""
    row.state, row.posts, row.reached, row.reason = state, posts, reached, reason
    row.finished_at, row.claimed_at = now, None
    session.flush()


def settle_history(session: Session, watch_id: int) -> list[Backfill] | None:
    """Once every backfill of the watch has ended: move the start of its complete history back
    to the latest point every source reached, and return the backfills (None before then)."""
    rows = list(session.scalars(select(Backfill).where(Backfill.watch_id == watch_id)))
    if not rows or any(r.state not in FINISHED for r in rows):
        return None
    watch = session.get(Watch, watch_id)
    if watch is None:
        return None
    start = max(r.reached or watch.created_at for r in rows)
    if start < watch.created_at:
        watch.history_from = start
    session.flush()
    return rows


def of_watches(session: Session, watch_ids: Sequence[int]) -> dict[int, list[Backfill]]:
    """Each watch's backfills, in source order of creation."""
    out: dict[int, list[Backfill]] = {}
    if not watch_ids:
        return out
    for row in session.scalars(
        select(Backfill).where(Backfill.watch_id.in_(watch_ids)).order_by(Backfill.id)
    ):
        out.setdefault(row.watch_id, []).append(row)
    return out
