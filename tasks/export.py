"""An export job: the watch's posts of the period as CSV, in a thread of the channel."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.grammar import format_duration
from bot.views.mrkdwn import quote_inline
from scoring.embed import embed
from sentibot.monitoring import export
from sentibot.storage import jobs as job_store
from sentibot.storage import watches as watch_store
from sentibot.storage.models import JobStage, JobState
from tasks.runtime import delivery, publish_once, sessions

log = logging.getLogger(__name__)


def answer_export(job_id: int) -> None:
    with sessions().begin() as session:
        job = job_store.get_job(session, job_id)
        if job is None or job.state == JobState.DONE:
            return
        team_id, channel, topic = job.team_id, job.channel_id, job.topic
        uploaded, response_url = job.chart_file_id, job.response_url
        watch = watch_store.channel_watch(session, team_id, channel, topic)
        made = None
        if watch is not None:
            end = job.created_at
            made = export.build(session, watch, end - timedelta(seconds=job.window_s), end, embed)
    if made is None:
        text = f"“{quote_inline(topic)}” is no longer watched here: there is nothing to export."
    else:
        text = (
            f"Export of “{quote_inline(topic)}”: {made.rows} posts of the last "
            f"{format_duration(job.window_s)} ({made.start:%Y-%m-%d %H:%M} to "
            f"{made.end:%Y-%m-%d %H:%M} UTC), as CSV in this thread."
        )
        if made.rows > export.THEMED:
            text += (
                f" Themes were found on a sample of {export.THEMED:,} posts; "
                f"{made.themed:,} rows carry one."
            )
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    posted = publish_once(
        team_id, f"job:{job_id}:export", channel=channel, text=text, blocks=blocks,
        response_url=response_url,
    )  # fmt: skip
    file_id = uploaded
    if made is not None and file_id is None:
        file_id = delivery(team_id).upload(
            posted.channel, posted.ts, made.csv, f"{topic} export", filename=made.filename
        )
    with sessions().begin() as session:
        job = job_store.the_job(session, job_id)
        job.message_channel, job.message_ts, job.chart_file_id = posted.channel, posted.ts, file_id
        if made is not None and file_id is None:
            job.error = "the CSV could not be uploaded to this channel (is sentibot in it?)"
            job_store.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.FAILED)
        else:
            job_store.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.DONE)
    log.info("job %s: export of %s posts answered", job_id, made.rows if made else 0)
