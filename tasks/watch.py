"""Scheduled collection for a watch, and the sentiment processor's scoring batches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.views.notices import render_health
from collectors.query import parse_query
from collectors.registry import build_collectors
from collectors.registry import collect as collect_posts
from scoring.base import get_scorer
from sentibot.config.settings import get_settings
from sentibot.monitoring import watch_runs
from sentibot.monitoring.source_health import Event
from sentibot.storage import notices as notice_store
from sentibot.storage import posts as post_store
from sentibot.storage import score_queue
from sentibot.storage.models import utcnow
from tasks.celery_app import app
from tasks.notices import send_notice
from tasks.runtime import RETRY_DB, sessions

log = logging.getLogger(__name__)


def queue_notices(
    session: Session, run: watch_runs.WatchRun, events: Sequence[Event], now: datetime
) -> list[int]:
    """The run's health changes as notices in the outbox (sent by `send_notice`)."""
    return [
        notice_store.add_notice(
            session,
            run.team_id,
            run.channel_id,
            f"source_{event.kind}",
            render_health(event, run.topic, now),
        ).id
        for event in events
    ]


@app.task(name="sentibot.collect_watch", **RETRY_DB)
def collect_watch(watch_id: int) -> None:
    settings, now = get_settings(), utcnow()
    with sessions().begin() as session:
        run = watch_runs.begin_run(
            session,
            watch_id,
            limit=settings.watch_post_limit,
            x_cap=settings.x_daily_post_cap,
            now=now,
        )
    if run is None:
        return
    collectors = watch_runs.x_budgeted(
        build_collectors(settings, run.sources), run.x_reserved, settings.x_daily_post_cap
    )
    collection = collect_posts(
        parse_query(run.topic), collectors, settings.watch_post_limit, run.cursors
    )
    with sessions().begin() as session:
        now = utcnow()
        events = watch_runs.finish_run(session, run, collection, now)
        notices = queue_notices(session, run, events, now)
    log.info(
        "watch %s: %s posts from %s",
        watch_id,
        len(collection.posts),
        {name: r.status for name, r in collection.reports.items()},
    )
    for notice_id in notices:
        send_notice.delay(notice_id)


@app.task(name="sentibot.score_posts", **RETRY_DB)
def score_posts(model: str, post_ids: Sequence[int]) -> None:
    """One batch from the sentiment processor; posts scored meanwhile are skipped."""
    with sessions().begin() as session:
        rows = score_queue.posts_to_score(session, model, post_ids)
    if rows:
        scorer = get_scorer(model, get_settings().sentiment_precision)
        sentiments = scorer.score([text for _, text in rows])
    with sessions().begin() as session:
        if rows:
            post_store.store_scores(
                session, model, list(zip([pid for pid, _ in rows], sentiments, strict=True))
            )
        score_queue.finish_score_requests(session, model, post_ids)
    log.info("scored %s of %s posts with %s", len(rows), len(post_ids), model)
