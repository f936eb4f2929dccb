"""The three stages of an analysis job. Thin: load by id, call the domain, save, enqueue next.

Each stage is idempotent, so a redelivered or swept message is harmless.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError

from sentibot import analysis
from sentibot.bot.notify import Posted, publish
from sentibot.bot.slack_client import make_web_client
from sentibot.bot.views.summary import render_failure, render_summary
from sentibot.collectors.query import parse_query
from sentibot.collectors.registry import build_collectors
from sentibot.collectors.registry import collect as collect_posts
from sentibot.config.settings import MissingSetting, get_settings
from sentibot.scoring.base import UnknownModel, get_scorer
from sentibot.storage import queries
from sentibot.storage import watches as wq
from sentibot.storage.models import JobStage, JobState, utcnow
from sentibot.storage.session import sessionmaker_for
from sentibot.tasks.celery_app import app
from sentibot.tasks.enqueue import enqueue_stage
from sentibot.watching import X, x_budgeted

log = logging.getLogger(__name__)

# Errors whose message is written for the user (and names what to fix).
UserFacingError = (UnknownModel, MissingSetting)


def _sessions():
    return sessionmaker_for(get_settings().effective_database_url)


@lru_cache(maxsize=1)
def _slack() -> WebClient:
    return make_web_client(get_settings())


class _FailJobOnError(app.Task):
    """A stage that fails for a reason retries cannot fix ends the job and tells the user."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:  # noqa: ANN001
        if isinstance(exc, OperationalError) or not args or self.name == "sentibot.notify":
            return  # the sweeper re-sends these; a failing notify cannot report itself
        job_id = args[0]
        with _sessions().begin() as session:
            job = queries.get_job(session, job_id)
            if job is None or job.state not in JobState.UNFINISHED:
                return
            job.error = str(exc) if isinstance(exc, UserFacingError) else "an internal error"
            queries.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.FAILED)
        log.error("job %s failed in %s: %r", job_id, self.name, exc)
        enqueue_stage(job_id, JobStage.NOTIFY)


# Database hiccups are worth a retry.
RETRY_DB = {"autoretry_for": (OperationalError,), "retry_backoff": True, "max_retries": 5}

# Database hiccups are worth a retry; anything else ends the job with a message to the user.
RETRY = {
    "base": _FailJobOnError,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
}


@app.task(name="sentibot.collect", **RETRY)
def collect(job_id: int) -> None:
    settings, now = get_settings(), utcnow()
    with _sessions().begin() as session:
        job = queries.get_job(session, job_id)
        if job is None or job.state not in JobState.UNFINISHED:
            return
        queries.advance_job(session, job, stage=JobStage.COLLECT)
        topic, sources, limit, team_id = job.topic, list(job.sources), job.post_limit, job.team_id
        reserved = 0
        if X in sources:
            reserved = wq.reserve_x_reads(session, team_id, limit, settings.x_daily_post_cap, now)
    # No transaction is open while the sources are searched (seconds, on the network).
    collectors = x_budgeted(
        build_collectors(settings, sources), reserved, settings.x_daily_post_cap
    )
    collection = collect_posts(parse_query(topic), collectors, limit)
    with _sessions().begin() as session:
        if reserved:
            wq.settle_x_reads(session, team_id, reserved, collection.billed.get(X, 0), now)
        job = queries.get_job(session, job_id)
        n = analysis.store_collection(session, job, collection.posts, collection.reports)
        queries.advance_job(session, job, stage=JobStage.SCORE)
    log.info("job %s: collected %s posts", job_id, n)
    enqueue_stage(job_id, JobStage.SCORE)


@app.task(name="sentibot.score", **RETRY)
def score(job_id: int) -> None:
    with _sessions().begin() as session:
        job = queries.get_job(session, job_id)
        if job is None or job.state not in JobState.UNFINISHED:
            return
        n = analysis.score_job_posts(
            session, job, get_scorer(job.model, get_settings().sentiment_precision)
        )
        queries.advance_job(session, job, stage=JobStage.NOTIFY)
    log.info("job %s: scored %s posts", job_id, n)
    enqueue_stage(job_id, JobStage.NOTIFY)


@app.task(name="sentibot.notify", **RETRY)
def notify(job_id: int) -> None:
    with _sessions().begin() as session:
        job = queries.get_job(session, job_id)
        if job is None or job.state == JobState.DONE:
            return
        if job.state == JobState.FAILED:
            text, blocks = render_failure(job.topic, job.error or "unknown error")
        else:
            report = analysis.job_report(session, job)
            text, blocks = render_summary(report.summary, report.sources, job.model)
        existing = Posted(job.message_channel, job.message_ts) if job.message_ts else None
        channel, response_url = job.channel_id, job.response_url
    posted = publish(
        _slack(),
        channel=channel,
        text=text,
        blocks=blocks,
        existing=existing,
        response_url=response_url,
    )
    with _sessions().begin() as session:
        job = queries.get_job(session, job_id)
        job.message_channel, job.message_ts = posted.channel, posted.ts
        if job.state != JobState.FAILED:
            queries.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.DONE)
    log.info("job %s: summary posted to %s", job_id, posted.channel)
