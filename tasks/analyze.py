"""The three stages of an analysis job. Thin: load by id, call the domain, save, enqueue next.

Each stage is idempotent, so a redelivered or swept message is harmless.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import redis
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from sqlalchemy.exc import OperationalError

from sentibot.monitoring import analysis
from bot.install import bot_token
from bot.notify import RESPONSE_URL_TS, Posted, publish
from bot.pacing import ChannelPacer
from bot.slack_client import make_web_client
from bot.views import progress
from bot.views.chart import render_chart
from bot.views.summary import render_failure, render_summary
from collectors.query import parse_query
from collectors.registry import build_collectors
from collectors.registry import collect as collect_posts
from sentibot.config.settings import MissingSetting, get_settings
from sentibot.embedded import redis_client_url
from scoring.base import UnknownModel, get_scorer
from sentibot.storage import queries
from sentibot.storage import watches as wq
from sentibot.storage.models import JobStage, JobState, utcnow
from sentibot.storage.session import sessionmaker_for
from tasks.celery_app import app
from tasks.enqueue import enqueue_stage
from sentibot.monitoring.watch_runs import X, x_budgeted

log = logging.getLogger(__name__)

# Errors whose message is written for the user (and names what to fix).
UserFacingError = (UnknownModel, MissingSetting)


def _sessions():
    return sessionmaker_for(get_settings().effective_database_url)


def _slack(team_id: str) -> WebClient:
    """A client with the bot token of `team_id` (its installation, or SLACK_BOT_TOKEN)."""
    return _client_for(bot_token(get_settings(), team_id))


@lru_cache(maxsize=256)
def _client_for(token: str) -> WebClient:
    return make_web_client(get_settings(), token=token)


@lru_cache(maxsize=1)
def _pacer() -> ChannelPacer:
    settings = get_settings()
    client = redis.Redis.from_url(redis_client_url(settings))
    return ChannelPacer(client, prefix=settings.sentibot_broker_prefix)


def pace(channel: str) -> None:
    _pacer().wait(channel)


def _progress(job_id: int, message: tuple[str, list[dict]]) -> None:
    """Show the job's progress in its channel message. Best effort: a progress message that
    cannot be posted (not a member, Slack down) never fails the job, and response_url, which
    allows only 5 uses, is kept for the final answer."""
    text, blocks = message
    with _sessions().begin() as session:
        job = queries.get_job(session, job_id)
        existing = Posted(job.message_channel, job.message_ts) if job.message_ts else None
        channel, team_id = job.channel_id, job.team_id
    try:
        posted = publish(
            _slack(team_id), channel=channel, text=text, blocks=blocks, existing=existing, pace=pace
        )
    except (SlackClientError, OSError) as exc:
        log.info("job %s: no progress message (%s)", job_id, exc)
        return
    if existing is None and posted.ts != RESPONSE_URL_TS:
        with _sessions().begin() as session:
            job = queries.get_job(session, job_id)
            job.message_channel, job.message_ts = posted.channel, posted.ts


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
    _progress(job_id, progress.collecting(topic, sources))
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
    _progress(job_id, progress.scoring(topic, n))
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
    chart: bytes | None = None
    with _sessions().begin() as session:
        job = queries.get_job(session, job_id)
        if job is None or job.state == JobState.DONE:
            return
        if job.state == JobState.FAILED:
            text, blocks = render_failure(job.topic, job.error or "unknown error")
        else:
            report = analysis.job_report(session, job)
            text, blocks = render_summary(
                report.summary,
                report.sources,
                job.model,
                report.posts,
                report.previous,
                report.window_s,
                job.id,
            )
            if job.chart_file_id is None:
                chart = render_chart(report.timeline, f"{job.topic}: sentiment and volume")
        existing = Posted(job.message_channel, job.message_ts) if job.message_ts else None
        channel, response_url, team_id = job.channel_id, job.response_url, job.team_id
    posted = publish(
        _slack(team_id),
        channel=channel,
        text=text,
        blocks=blocks,
        existing=existing,
        response_url=response_url,
        pace=pace,
    )
    chart_id = _upload_chart(job_id, team_id, posted, chart) if chart else None
    with _sessions().begin() as session:
        job = queries.get_job(session, job_id)
        job.message_channel, job.message_ts = posted.channel, posted.ts
        job.chart_file_id = job.chart_file_id or chart_id
        if job.state != JobState.FAILED:
            queries.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.DONE)
    log.info("job %s: summary posted to %s", job_id, posted.channel)


def _upload_chart(job_id: int, team_id: str, posted: Posted, png: bytes) -> str | None:
    """The chart in the summary's thread (files upload v2). Best effort: the report stands
    without it."""
    if posted.ts == RESPONSE_URL_TS:
        return None  # answered through response_url: there is no message to thread under
    return _upload(team_id, posted.channel, posted.ts, png, "Sentiment and volume over time")


def _upload(team_id: str, channel: str, thread_ts: str, png: bytes, title: str) -> str | None:
    try:
        pace(channel)
        response = _slack(team_id).files_upload_v2(
            channel=channel, thread_ts=thread_ts, file=png, filename="sentiment.png", title=title
        )
    except (SlackClientError, OSError) as exc:
        log.warning("chart not uploaded to %s (%s)", channel, exc)
        return None
    files = response.get("files") or [response.get("file") or {}]
    return files[0].get("id")
