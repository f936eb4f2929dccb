"""Scheduled collection for a watch, and the sentiment processor's scoring batches."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import suppress
from datetime import datetime

from sqlalchemy.orm import Session

from bot.views.notices import render_health
from scoring.base import get_scorer, language_routes
from sentibot.config.settings import get_settings
from sentibot.monitoring import watch_runs
from sentibot.monitoring.source_health import Event
from sentibot.query import parse_query
from sentibot.sentiment import Sentiment, score_known_languages
from sentibot.sources import build_collectors
from sentibot.sources import collect as collect_posts
from sentibot.storage import notices as notice_store
from sentibot.storage import posts as post_store
from sentibot.storage import score_queue
from sentibot.storage import watches as watch_store
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
    """Fan out: each source of the watch is read in its own task on the collect queue, so a
    slow source delays only itself and the sources spread over every collect worker. A part
    that is lost is read next run, from its source's cursor."""
    with sessions().begin() as session:
        watch = watch_store.get_watch(session, watch_id)
        sources = list(watch.sources) if watch is not None else []
    for source in sources:
        app.send_task("sentibot.collect_watch_source", args=[watch_id, source], retry=False)


@app.task(name="sentibot.collect_watch_source", **RETRY_DB)
def collect_watch_source(watch_id: int, source: str) -> None:
    settings, now = get_settings(), utcnow()
    with sessions().begin() as session:
        run = watch_runs.begin_run(
            session,
            watch_id,
            limit=settings.watch_post_limit,
            x_cap=settings.x_daily_post_cap,
            now=now,
            source=source,
        )
    if run is None:
        return
    try:
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
    except Exception:
        # A retry (or the next run) may read the source at once; a lost worker's claim goes
        # stale instead.
        with suppress(Exception), sessions().begin() as session:
            watch_store.release_read(session, watch_id, source)
        raise
    log.info(
        "watch %s: %s posts from %s (%s)",
        watch_id,
        len(collection.posts),
        source,
        collection.reports[source].status,
    )
    for notice_id in notices:
        send_notice.delay(notice_id)


@app.task(name="sentibot.score_posts", **RETRY_DB)
def score_posts(model: str, post_ids: Sequence[int]) -> None:
    """One batch from the sentiment processor; posts scored meanwhile are skipped."""
    with sessions().begin() as session:
        rows = score_queue.posts_to_score(session, model, post_ids)
    scored = _score_each(model, rows) if rows else []
    with sessions().begin() as session:
        if scored:
            post_store.store_scores(session, model, scored)
        unscored = {row[0] for row in rows} - {pid for pid, _ in scored}
        score_queue.finish_score_requests(
            session, model, [p for p in post_ids if p not in unscored]
        )
    log.info("scored %s of %s posts with %s", len(scored), len(post_ids), model)


def _score_each(model: str, rows: list[tuple[int, str, str | None]]) -> list[tuple[int, Sentiment]]:
    """The batch at once; if it raises, post by post, so one post that breaks the scorer is
    logged and left (its request is re-sent a bounded number of times), not the batch. Posts
    in languages the model does not read are stored as unscored."""
    settings = get_settings()
    scorer = get_scorer(model, settings.sentiment_precision)
    routes = language_routes(settings.sentiment_language_models, settings.sentiment_precision)
    try:
        sentiments = score_known_languages(
            scorer, model, [(t, lang) for _, t, lang in rows], routes
        )
        return list(zip([pid for pid, _, _ in rows], sentiments, strict=True))
    except (ValueError, RuntimeError, TypeError, UnicodeError) as exc:
        log.warning("a batch of %s posts failed to score (%r); scoring one by one", len(rows), exc)
    scored = []
    for pid, text, lang in rows:
        try:
            scored.append((pid, score_known_languages(scorer, model, [(text, lang)], routes)[0]))
        except (ValueError, RuntimeError, TypeError, UnicodeError) as exc:
            log.error("post %s not scored with %s: %r", pid, model, exc)
    return scored
