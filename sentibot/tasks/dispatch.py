"""The Beat tick: re-send jobs whose message was lost or whose worker died."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sentibot.config.settings import get_settings
from sentibot.storage import queries
from sentibot.storage.models import JobStage, JobState, utcnow
from sentibot.storage.session import sessionmaker_for
from sentibot.tasks.celery_app import app
from sentibot.tasks.enqueue import enqueue_stage

log = logging.getLogger(__name__)

# A job never picked up this long after it was stored (or last re-sent) lost its message.
QUEUED_STALE_AFTER = timedelta(seconds=60)
# A started stage untouched this long lost its worker (longer than the task hard time limit).
STARTED_STALE_AFTER = timedelta(seconds=330)
MAX_ATTEMPTS = 5


def sweep(
    session: Session,
    now: datetime,
    send: Callable[[int, str], None],
    queued_stale_after: timedelta = QUEUED_STALE_AFTER,
    started_stale_after: timedelta = STARTED_STALE_AFTER,
) -> list[int]:
    """Re-send each stuck job's current stage; give up (and tell the user) after MAX_ATTEMPTS."""
    resent = []
    stuck = queries.stuck_jobs(
        session, queued_before=now - queued_stale_after, started_before=now - started_stale_after
    )
    for job in stuck:
        if job.attempts >= MAX_ATTEMPTS:
            job.error = f"gave up after {job.attempts} attempts"
            queries.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.FAILED)
            stage = JobStage.NOTIFY
        else:
            stage = job.stage
            queries.touch_job(session, job.id, now)
        session.flush()
        try:
            send(job.id, stage)
        except Exception:
            log.warning("broker still unavailable; job %s waits for the next tick", job.id)
            break
        resent.append(job.id)
    return resent


@app.task(name="sentibot.dispatch")
def dispatch() -> None:
    with sessionmaker_for(get_settings().effective_database_url).begin() as session:
        resent = sweep(session, utcnow(), enqueue_stage)
    if resent:
        log.info("re-sent stuck jobs %s", resent)
