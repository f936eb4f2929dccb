"""A new watch's backfill of one source, on its own low-priority queue (`backfill`), which
production serves with its own worker: history never takes a live run's place."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, cast

from sqlalchemy.orm import Session

from bot.views import backfills as views
from sentibot.config.settings import Settings, get_settings
from sentibot.monitoring import backfills
from sentibot.monitoring.overview import BackfillStatus
from sentibot.query import Query, parse_query
from sentibot.sources import Collector, SourceError, SourceSkipped, build_collectors
from sentibot.sources import collect as collect_posts
from sentibot.storage import notices as notice_store
from sentibot.storage.models import Backfill, utcnow
from tasks.celery_app import app
from tasks.notices import send_notice
from tasks.runtime import RETRY_DB, sessions

log = logging.getLogger(__name__)


class Estimates(Protocol):
    """X's collector says what a read from `since` would bill before reading (its counts)."""

    def estimate(self, query: Query, since: datetime) -> int: ...


@app.task(name="sentibot.backfill_source", **RETRY_DB)
def backfill_source(backfill_id: int) -> None:
    settings, now = get_settings(), utcnow()
    with sessions().begin() as session:
        run = backfills.begin(session, backfill_id, now)
    if run is None:
        return
    collector = build_collectors(settings, [run.source])[run.source]
    if isinstance(collector, SourceSkipped):
        with sessions().begin() as session:
            ended = backfills.skip(session, run, collector.reason, utcnow(), lost=False)
            notices = _ended(session, run, ended)
        _send(notices)
        return
    limit, cap = settings.backfill_post_limit, settings.x_daily_post_cap
    if run.source == backfills.X:
        if not run.approved and not _priced(run, collector, limit, cap, settings):
            return
        with sessions().begin() as session:
            granted = backfills.reserve_x(session, run, limit, cap, utcnow())
            if granted <= 0:
                reason = f"the daily X read cap (X_DAILY_POST_CAP={cap:,}) was reached"
                ended = backfills.skip(session, run, reason, utcnow(), lost=True)
                notices = _ended(session, run, ended)
        if granted <= 0:
            _send(notices)
            return
        limit = granted
    collection = collect_posts(
        parse_query(run.topic), {run.source: collector}, limit, {run.source: run.cursor}
    )
    with sessions().begin() as session:
        ended = backfills.finish(session, run, collection, limit, utcnow())
        notices = _ended(session, run, ended)
    log.info(
        "backfill %s of watch %s: %s posts from %s (%s)",
        backfill_id,
        run.watch_id,
        len(collection.posts),
        run.source,
        collection.reports[run.source].status,
    )
    _send(notices)


def _priced(
    run: backfills.BackfillRun, collector: Collector, limit: int, cap: int, settings: Settings
) -> bool:
    """Ask X what the read would bill and tell the channel; False when it must wait for an
    answer (or the estimate failed and the dispatcher will try again)."""
    try:
        estimate = cast(Estimates, collector).estimate(parse_query(run.topic), run.read_from)
    except SourceError as exc:
        with sessions().begin() as session:
            ended = backfills.fail(session, run.backfill_id, exc.reason, utcnow())
            notices = _ended(session, run, ended)
        _send(notices)
        return False
    with sessions().begin() as session:
        now = utcnow()
        price = backfills.price_x(
            session,
            run,
            estimate,
            limit=limit,
            cap=cap,
            share=settings.backfill_confirm_share,
            now=now,
        )
        if price.go:
            text = views.x_cost(run.topic, price.estimate, run.read_from, price.used, cap, now)
            blocks = None
        else:
            text, blocks = views.x_cost_question(
                run.backfill_id, run.topic, price.estimate, run.read_from, price.used, cap, now
            )
        notice = notice_store.add_notice(
            session, run.team_id, run.channel_id, "backfill_cost", text, blocks
        ).id
    _send([notice])
    return price.go


def _ended(
    session: Session, run: backfills.BackfillRun, ended: Sequence[Backfill] | None
) -> list[int]:
    """The notice that the watch's backfill is over, once its last source ended."""
    if not ended:
        return []
    text = views.finished(run.topic, [BackfillStatus.of(r) for r in ended], utcnow())
    return [notice_store.add_notice(session, run.team_id, run.channel_id, "backfill", text).id]


def _send(notices: Sequence[int]) -> None:
    for notice_id in notices:
        send_notice.delay(notice_id)
