"""Sending stage messages to the broker, by job id only."""

from __future__ import annotations

from collections.abc import Callable

from celery import Celery

from sentibot.storage.models import JobStage

STAGE_TASKS = {
    JobStage.COLLECT: "sentibot.collect",
    JobStage.SCORE: "sentibot.score",
    JobStage.NOTIFY: "sentibot.notify",
}


def stage_sender(app: Celery) -> Callable[[int, str], None]:
    def send(job_id: int, stage: str) -> None:
        # retry=False: a dead broker fails now; the Job row stays and the sweeper sends it later.
        app.send_task(STAGE_TASKS[stage], args=[job_id], retry=False)

    return send


def job_enqueuer(app: Celery) -> Callable[[int], None]:
    send = stage_sender(app)
    return lambda job_id: send(job_id, JobStage.COLLECT)


def enqueue_stage(job_id: int, stage: str) -> None:
    """Send a stage through the process's Celery app (the one workers run)."""
    from tasks.celery_app import app

    stage_sender(app)(job_id, stage)
