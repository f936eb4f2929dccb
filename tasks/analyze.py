"""The three stages of an analysis job. Thin: load by id, call the domain, save, enqueue next.

Each stage is idempotent, so a redelivered or swept message is harmless.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackClientError
from sqlalchemy.exc import OperationalError

from bot.delivery import RESPONSE_URL_TS, Posted, Undeliverable
from bot.views import progress
from bot.views.chart import render_chart
from bot.views.summary import render_failure, render_summary
from collectors.query import parse_query
from collectors.registry import SourceReport, build_collectors
from collectors.registry import collect as collect_posts
from scoring.base import UnknownModel, get_scorer
from sentibot.config.settings import MissingSetting, get_settings
from sentibot.monitoring import analysis
from sentibot.monitoring.watch_runs import X, x_budgeted
from sentibot.storage import jobs as job_store
from sentibot.storage import x_usage
from sentibot.storage.models import UNFINISHED, JobStage, JobState, utcnow
from tasks.celery_app import app
from tasks.enqueue import enqueue_stage
from tasks.heartbeat import heartbeat
from tasks.runtime import RETRY_DB, delivery, publish_once, sessions

log = logging.getLogger(__name__)

# Errors whose message is written for the user (and names what to fix).
UserFacingError = (UnknownModel, MissingSetting)


def _message_key(job_id: int) -> str:
    """The job's one message (progress, then the report) has one idempotency key."""
    return f"job:{job_id}"


def _progress(job_id: int, message: tuple[str, list[dict]]) -> None:
    """Show the job's progress in its channel message. Best effort: a progress message that
    cannot be posted (not a member, Slack down) never fails the job, and response_url, which
    allows only 5 uses, is kept for the final answer."""
    text, blocks = message
    with sessions().begin() as session:
        job = job_store.get_job(session, job_id)
        existing = Posted(job.message_channel, job.message_ts) if job.message_ts else None
        channel, team_id = job.channel_id, job.team_id
    try:
        posted = publish_once(
            team_id,
            _message_key(job_id),
            channel=channel,
            text=text,
            blocks=blocks,
            existing=existing,
        )
    except (SlackClientError, Undeliverable, OSError) as exc:
        log.info("job %s: no progress message (%s)", job_id, exc)
        return
    if existing is None and posted.ts != RESPONSE_URL_TS:
        with sessions().begin() as session:
            job = job_store.get_job(session, job_id)
            job.message_channel, job.message_ts = posted.channel, posted.ts


class _FailJobOnError(app.Task):
    """A stage that fails for a reason retries cannot fix ends the job and tells the user."""

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        if isinstance(exc, OperationalError) or not args or self.name == "sentibot.notify":
            return  # the sweeper re-sends these; a failing notify cannot report itself
        job_id = args[0]
        with sessions().begin() as session:
            job = job_store.get_job(session, job_id)
            if job is None or job.state not in UNFINISHED:
                return
            job.error = str(exc) if isinstance(exc, UserFacingError) else "an internal error"
            job_store.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.FAILED)
        log.error("job %s failed in %s: %r", job_id, self.name, exc)
        enqueue_stage(job_id, JobStage.NOTIFY)


# Database hiccups are worth a retry; anything else ends the job with a message to the user.
RETRY = {"base": _FailJobOnError, **RETRY_DB}


@app.task(name="sentibot.collect", **RETRY)
def collect(job_id: int) -> None:
    with heartbeat(job_id):
        _collect(job_id)


def _collect(job_id: int) -> None:
    settings, now = get_settings(), utcnow()
    with sessions().begin() as session:
        job = job_store.get_job(session, job_id)
        if job is None or job.state not in UNFINISHED:
            return
        job_store.advance_job(session, job, stage=JobStage.COLLECT)
        topic, sources, limit, team_id = job.topic, list(job.sources), job.post_limit, job.team_id
        reserved = 0
        if X in sources:
            reserved = x_usage.reserve_x_reads(
                session, team_id, limit, settings.x_daily_post_cap, now
            )
    _progress(job_id, progress.collecting(topic, sources))
    # No transaction is open while the sources are searched (seconds, on the network).
    collectors = x_budgeted(
        build_collectors(settings, sources), reserved, settings.x_daily_post_cap
    )
    done: dict[str, SourceReport] = {}

    def finished(name: str, report: SourceReport) -> None:
        done[name] = report
        if report.status != "skipped":  # each source shown as it finishes
            _progress(job_id, progress.collecting(topic, sources, done))

    collection = collect_posts(parse_query(topic), collectors, limit, on_report=finished)
    with sessions().begin() as session:
        if reserved:
            x_usage.settle_x_reads(session, team_id, reserved, collection.billed.get(X, 0), now)
        job = job_store.get_job(session, job_id)
        n = analysis.store_collection(session, job, collection.posts, collection.reports)
        job_store.advance_job(session, job, stage=JobStage.SCORE)
    log.info("job %s: collected %s posts", job_id, n)
    _progress(job_id, progress.scoring(topic, n))
    enqueue_stage(job_id, JobStage.SCORE)


@app.task(name="sentibot.score", **RETRY)
def score(job_id: int) -> None:
    with heartbeat(job_id):
        _score(job_id)


def _score(job_id: int) -> None:
    with sessions().begin() as session:
        job = job_store.get_job(session, job_id)
        if job is None or job.state not in UNFINISHED:
            return
        n = analysis.score_job_posts(
            session, job, get_scorer(job.model, get_settings().sentiment_precision)
        )
        job_store.advance_job(session, job, stage=JobStage.NOTIFY)
    log.info("job %s: scored %s posts", job_id, n)
    enqueue_stage(job_id, JobStage.NOTIFY)


@app.task(name="sentibot.notify", **RETRY)
def notify(job_id: int) -> None:
    with heartbeat(job_id):
        _notify(job_id)


def _notify(job_id: int) -> None:
    chart: bytes | None = None
    with sessions().begin() as session:
        job = job_store.get_job(session, job_id)
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
    try:
        posted = publish_once(
            team_id,
            _message_key(job_id),
            channel=channel,
            text=text,
            blocks=blocks,
            existing=existing,
            response_url=response_url,
        )
    except Undeliverable as exc:
        # Not in the channel and response_url refused too: the job failed, it is not "done".
        with sessions().begin() as session:
            job = job_store.get_job(session, job_id)
            job.error = f"the report could not be delivered ({exc.error})"
            job_store.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.FAILED)
        log.warning("job %s: report undeliverable: %s", job_id, exc.error)
        return
    chart_id = (
        delivery(team_id).upload(posted.channel, posted.ts, chart, "Sentiment and volume over time")
        if chart
        else None
    )
    with sessions().begin() as session:
        job = job_store.get_job(session, job_id)
        job.message_channel, job.message_ts = posted.channel, posted.ts
        job.chart_file_id = job.chart_file_id or chart_id
        if job.state != JobState.FAILED:
            job_store.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.DONE)
    log.info("job %s: summary posted to %s", job_id, posted.channel)
