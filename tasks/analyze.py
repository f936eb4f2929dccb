"""The three stages of an analysis job. Thin: load by id, call the domain, save, enqueue next.

Each stage is idempotent, so a redelivered or swept message is harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk.errors import SlackClientError
from slack_sdk.webhook import WebhookClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from bot.delivery import RESPONSE_URL_TS, Posted, ResponseUrlFailed, Undeliverable
from bot.views import progress
from bot.views.chart import render_chart
from bot.views.preview import render_preview
from bot.views.summary import render_failure, render_summary
from scoring.base import get_scorer, language_routes
from scoring.embed import embed
from sentibot.config.settings import MissingSetting, get_settings
from sentibot.monitoring import analysis
from sentibot.monitoring.preview import preview
from sentibot.monitoring.watch_runs import X, x_budgeted
from sentibot.query import parse_query
from sentibot.sentiment import UnknownModel
from sentibot.sources import Post as CollectedPost
from sentibot.sources import SourceReport, build_collectors
from sentibot.sources import collect as collect_posts
from sentibot.storage import jobs as job_store
from sentibot.storage import x_usage
from sentibot.storage.models import EXPORT, PREVIEW, UNFINISHED, Job, JobStage, JobState, utcnow
from tasks.celery_app import app
from tasks.enqueue import enqueue_stage
from tasks.export import answer_export
from tasks.heartbeat import Hold, heartbeat
from tasks.runtime import RETRY_DB, delivery, publish_once, sessions

log = logging.getLogger(__name__)

# Errors whose message is written for the user (and names what to fix).
UserFacingError = (UnknownModel, MissingSetting)


def _message_key(job_id: int) -> str:
    """The job's one message (progress, then the report) has one idempotency key."""
    return f"job:{job_id}"


def _posted(job: Job) -> Posted | None:
    """The job's message, once it has one."""
    if not job.message_ts:
        return None
    return Posted(job.message_channel or job.channel_id, job.message_ts)


@dataclass(frozen=True)
class _Message:
    """Where a job's progress goes, read in a stage's own transaction (not one of its own)."""

    job_id: int
    preview: bool
    channel: str
    team_id: str
    existing: Posted | None

    @classmethod
    def of(cls, job: Job) -> _Message:
        return cls(job.id, job.kind == PREVIEW, job.channel_id, job.team_id, _posted(job))


def _progress(where: _Message, message: tuple[str, list[dict]]) -> None:
    """Show the job's progress in its channel message. Best effort: a progress message that
    cannot be posted (not a member, Slack down) never fails the job, and response_url, which
    allows only 5 uses, is kept for the final answer."""
    if where.preview:
        return  # a preview shows nothing in the channel
    text, blocks = message
    try:
        posted = publish_once(
            where.team_id,
            _message_key(where.job_id),
            channel=where.channel,
            text=text,
            blocks=blocks,
            existing=where.existing,
        )
    except (SlackClientError, Undeliverable, OSError) as exc:
        log.info("job %s: no progress message (%s)", where.job_id, exc)
        return
    if where.existing is None and posted.ts != RESPONSE_URL_TS:
        with sessions().begin() as session:
            job = job_store.the_job(session, where.job_id)
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
    with heartbeat(job_id) as hold:
        _collect(job_id, hold)


def _collect(job_id: int, hold: Hold | None = None) -> None:
    """Fan out: each source not yet reported gets its own task on the collect queue, so the
    sources of one analysis spread over every collect worker and are read side by side. The
    last one in sends the job on to scoring."""
    with sessions().begin() as session:
        job = job_store.get_job(session, job_id)
        if job is None or job.state not in UNFINISHED or job.stage not in _COLLECTING:
            return
        if hold is not None:
            hold.beat(session, job)
        if job.kind == EXPORT:  # nothing to collect: the watch's posts are stored
            job_store.advance_job(session, job, stage=JobStage.NOTIFY)
            exporting = True
        else:
            job_store.advance_job(session, job, stage=JobStage.COLLECT)
            exporting = False
        topic, sources = job.topic, list(job.sources)
        missing = [s for s in sources if s not in (job.source_reports or {})]
        where = _Message.of(job)
    if exporting:
        enqueue_stage(job_id, JobStage.NOTIFY)
        return
    _progress(where, progress.collecting(topic, sources))
    if not missing:  # every source reported (the last one in was lost on its way): move on
        with sessions().begin() as session:
            job = job_store.the_job(session, job_id)
            job_store.advance_job(session, job, stage=JobStage.SCORE)
        enqueue_stage(job_id, JobStage.SCORE)
        return
    log.info("job %s: collecting from %s", job_id, ", ".join(missing))
    for source in missing:
        app.send_task("sentibot.collect_source", args=[job_id, source], retry=False)


# A job is collecting while its stage is still collect (a re-sent fan-out finds it so).
_COLLECTING = (JobStage.COLLECT,)


@app.task(name="sentibot.collect_source", **RETRY)
def collect_source(job_id: int, source: str) -> None:
    with heartbeat(job_id) as hold:
        if _collect_source(job_id, source, hold):
            # The job's other sources are still being read: their tasks beat; should they
            # die, the job falls silent and the sweeper sends what is missing.
            hold.keep()


def _collect_source(job_id: int, source: str, hold: Hold | None = None) -> bool:
    """Read one source of the job and store its part; True while other sources are still
    being read."""
    settings, now = get_settings(), utcnow()
    with sessions().begin() as session:
        job = job_store.get_job(session, job_id)
        if (
            job is None
            or job.state not in UNFINISHED
            or job.stage not in _COLLECTING
            or source in (job.source_reports or {})
        ):
            return False  # done already (a re-sent fan-out, a redelivered message)
        if hold is not None:
            hold.beat(session, job)
        topic, sources, limit, team_id = job.topic, list(job.sources), job.post_limit, job.team_id
        reserved = 0
        if source == X:
            reserved = x_usage.reserve_x_reads(
                session, team_id, limit, settings.x_daily_post_cap, now
            )
    # No transaction is open while the source is searched (seconds, on the network).
    collectors = x_budgeted(
        build_collectors(settings, [source]), reserved, settings.x_daily_post_cap
    )
    collection = collect_posts(parse_query(topic), collectors, limit)
    with sessions().begin() as session:
        if reserved:
            x_usage.settle_x_reads(session, team_id, reserved, collection.billed.get(X, 0), now)
        outcome = analysis.store_source(session, job_id, source, collection)
        job = job_store.the_job(session, job_id)
        where = _Message.of(job)
        if hold is not None and outcome is not None and outcome.complete:
            hold.let_go(job)
    log.info("job %s: %s gave %s posts", job_id, source, collection.reports[source].count)
    if outcome is None:
        return False
    if not outcome.complete:
        _progress(where, progress.collecting(topic, sources, outcome.reports))
        return True
    log.info("job %s: collected %s posts", job_id, outcome.posts)
    _progress(where, progress.scoring(topic, outcome.posts))
    enqueue_stage(job_id, JobStage.SCORE)
    return False


@app.task(name="sentibot.score", **RETRY)
def score(job_id: int) -> None:
    with heartbeat(job_id, beat_now=True) as hold:
        _score(job_id, hold)


def _score(job_id: int, hold: Hold | None = None) -> None:
    with sessions().begin() as session:
        job = job_store.get_job(session, job_id)
        if job is None or job.state not in UNFINISHED:
            return
        n = 0
        if job.kind != PREVIEW:  # a preview counts posts; it does not weigh them
            settings = get_settings()
            n = analysis.score_job_posts(
                session,
                job,
                get_scorer(job.model, settings.sentiment_precision),
                routes=language_routes(
                    settings.sentiment_language_models, settings.sentiment_precision
                ),
            )
        job_store.advance_job(session, job, stage=JobStage.NOTIFY)
        if hold is not None:
            hold.let_go(job)
    log.info("job %s: scored %s posts", job_id, n)
    enqueue_stage(job_id, JobStage.NOTIFY)


@app.task(name="sentibot.notify", **RETRY)
def notify(job_id: int) -> None:
    with heartbeat(job_id, beat_now=True) as hold:
        _notify(job_id, hold)


def _notify(job_id: int, hold: Hold | None = None) -> None:
    chart: bytes | None = None
    with sessions().begin() as session:
        job = job_store.get_job(session, job_id)
        if job is None or job.state == JobState.DONE:
            return
        if job.kind == PREVIEW:
            _answer_preview(session, job)
            return
        exporting = job.kind == EXPORT and job.state != JobState.FAILED
        if not exporting:
            text, blocks, chart = _rendered(session, job)
        existing = _posted(job)
        channel, response_url, team_id = job.channel_id, job.response_url, job.team_id
    if exporting:
        answer_export(job_id)
        return
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
            job = job_store.the_job(session, job_id)
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
        job = job_store.the_job(session, job_id)
        job.message_channel, job.message_ts = posted.channel, posted.ts
        job.chart_file_id = job.chart_file_id or chart_id
        if job.state != JobState.FAILED:
            job_store.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.DONE)
        if hold is not None:
            hold.let_go(job)
    log.info("job %s: summary posted to %s", job_id, posted.channel)


def _rendered(session: Session, job: Job) -> tuple[str, list[dict], bytes | None]:
    """The job's report (or its failure) as Slack text and blocks, and its chart if none was
    uploaded yet."""
    if job.state == JobState.FAILED:
        text, blocks = render_failure(job.topic, job.error or "unknown error")
        return text, blocks, None
    report = analysis.job_report(session, job, embed)
    text, blocks = render_summary(
        report.summary,
        report.sources,
        job.model,
        report.posts,
        report.previous,
        report.window_s,
        job.id,
        report.languages,
        report.unscored,
        report.unique_authors,
        report.duplicates_merged,
        report.themes,
        report.movement,
    )
    chart = None
    if job.chart_file_id is None:
        chart = render_chart(report.timeline, f"{job.topic}: sentiment and volume")
    return text, blocks, chart


def _answer_preview(session: Session, job: Job) -> None:
    """The preview, to the person who asked only (response_url, ephemeral). Slack keeps a
    response_url for 30 minutes and 5 answers; one that refuses is logged and the job ends."""
    if job.state == JobState.FAILED:
        text, blocks = render_failure(job.topic, job.error or "unknown error")
    else:
        reports = {n: SourceReport.from_dict(r) for n, r in (job.source_reports or {}).items()}
        posts = [
            CollectedPost(p.source, p.external_id, p.text, created_at=p.posted_at)
            for p in job_store.job_posts(session, job.id)
        ]
        found = preview(parse_query(job.topic), posts, reports, utcnow())
        text, blocks = render_preview(job.topic, found)
    if job.response_url:
        answer = WebhookClient(job.response_url).send(
            response_type="ephemeral", replace_original=False, text=text, blocks=blocks
        )
        if answer.status_code >= 500:
            raise ResponseUrlFailed(f"response_url answered {answer.status_code}")
        if answer.status_code != 200:
            log.warning("job %s: preview refused by response_url (%s)", job.id, answer.status_code)
    if job.state != JobState.FAILED:
        job_store.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.DONE)
    log.info("job %s: preview answered", job.id)
