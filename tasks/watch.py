"""Scheduled collection, the sentiment processor's scoring batches, and channel notices."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta

from slack_sdk.errors import SlackApiError

from sentibot.monitoring import watch_runs
from bot.notify import UNDELIVERABLE, publish
from collectors.query import parse_query
from collectors.registry import build_collectors
from collectors.registry import collect as collect_posts
from sentibot.config.settings import get_settings
from scoring.base import get_scorer
from sentibot.storage import queries
from sentibot.storage import watches as wq
from sentibot.storage.models import Notice, utcnow
from tasks.analyze import RETRY_DB, _sessions, _slack, pace
from tasks.celery_app import app

log = logging.getLogger(__name__)

# A notice claimed this long ago and still unsent lost its worker: another may send it.
NOTICE_CLAIM_STALE = timedelta(minutes=5)


@app.task(name="sentibot.collect_watch", **RETRY_DB)
def collect_watch(watch_id: int) -> None:
    settings, now = get_settings(), utcnow()
    with _sessions().begin() as session:
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
    with _sessions().begin() as session:
        notices = watch_runs.finish_run(session, run, collection, utcnow())
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
    with _sessions().begin() as session:
        rows = wq.posts_to_score(session, model, post_ids)
    if rows:
        scorer = get_scorer(model, get_settings().sentiment_precision)
        sentiments = scorer.score([text for _, text in rows])
    with _sessions().begin() as session:
        if rows:
            queries.store_scores(
                session, model, list(zip([pid for pid, _ in rows], sentiments, strict=True))
            )
        wq.finish_score_requests(session, model, post_ids)
    log.info("scored %s of %s posts with %s", len(rows), len(post_ids), model)


@app.task(name="sentibot.send_notice", **RETRY_DB)
def send_notice(notice_id: int) -> None:
    with _sessions().begin() as session:
        notice = wq.claim_notice(session, notice_id, utcnow(), NOTICE_CLAIM_STALE)
        if notice is None:
            return  # sent already, or another worker is sending it
        channel, text, team_id = notice.channel_id, notice.text, notice.team_id
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    try:
        ts: str | None = publish(
            _slack(team_id), channel=channel, text=text, blocks=blocks, existing=None, pace=pace
        ).ts
    except SlackApiError as exc:
        if exc.response.get("error") not in UNDELIVERABLE:
            raise
        log.warning("notice %s dropped: %s", notice_id, exc.response.get("error"))
        ts = None
    with _sessions().begin() as session:
        notice = session.get(Notice, notice_id)
        notice.sent_at, notice.message_ts = utcnow(), ts
