"""Sending stage messages to the broker, by job id only."""

from __future__ import annotations

from sentibot.storage.models import JobStage

STAGE_TASKS = {
    JobStage.COLLECT: "sentibot.collect",
    JobStage.SCORE: "sentibot.score",
    JobStage.NOTIFY: "sentibot.notify",
}


def enqueue_stage(job_id: int, stage: str) -> None:
    from sentibot.tasks.celery_app import app

    # retry=False: a dead broker fails now; the Job row stays and the sweeper sends it later.
    app.send_task(STAGE_TASKS[stage], args=[job_id], retry=False)


def enqueue_job(job_id: int) -> None:
    enqueue_stage(job_id, JobStage.COLLECT)
