"""The Beat tick: due watches, the sentiment processor, lost notices, and stuck jobs.

Every due time and claim lives in the database, so a restarted (or doubled) Beat neither loses
nor repeats work.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from sentibot.config.settings import get_settings
from sentibot.monitoring import digests
from sentibot.storage import alerts as alert_store
from sentibot.storage import backfills as backfill_store
from sentibot.storage import digests as digest_store
from sentibot.storage import jobs as job_store
from sentibot.storage import notices as notice_store
from sentibot.storage import score_queue
from sentibot.storage import watches as watch_store
from sentibot.storage import webhooks as webhook_store
from sentibot.storage.models import JobStage, JobState, utcnow
from sentibot.storage.session import sessionmaker_for
from tasks.celery_app import app
from tasks.enqueue import STAGE_TASKS

log = logging.getLogger(__name__)

# A job never picked up this long after it was stored (or last re-sent) lost its message.
QUEUED_STALE_AFTER = timedelta(seconds=60)
# A stage whose worker has not beaten its heartbeat this long lost its worker (several beats:
# tasks/heartbeat.py); a started job that no worker holds (its next stage's message in flight)
# is re-sent after the task hard time limit, as before heartbeats.
SILENT_AFTER = timedelta(seconds=30)
STARTED_STALE_AFTER = timedelta(seconds=330)
MAX_ATTEMPTS = 5


def sweep(
    session: Session,
    now: datetime,
    send: Callable[[int, str], None],
    queued_stale_after: timedelta = QUEUED_STALE_AFTER,
    started_stale_after: timedelta = STARTED_STALE_AFTER,
    silent_after: timedelta = SILENT_AFTER,
) -> list[int]:
    """Re-send each stuck job's current stage; give up (and tell the user) after MAX_ATTEMPTS."""
    resent = []
    stuck = job_store.stuck_jobs(
        session,
        queued_before=now - queued_stale_after,
        started_before=now - started_stale_after,
        silent_before=now - silent_after,
    )
    for job in stuck:
        if job.attempts >= MAX_ATTEMPTS:
            job.error = f"gave up after {job.attempts} attempts"
            job_store.advance_job(session, job, stage=JobStage.NOTIFY, state=JobState.FAILED)
            stage: str = JobStage.NOTIFY
        else:
            stage = job.stage
            if job.worker:
                log.warning("job %s: worker %s went silent in %s", job.id, job.worker, stage)
            job_store.touch_job(session, job.id, now)
        session.flush()
        try:
            send(job.id, stage)
        except Exception:
            log.warning("broker still unavailable; job %s waits for the next tick", job.id)
            break
        resent.append(job.id)
    return resent


# The sentiment processor: posts per scoring task, and batches sent per tick.
SCORE_BATCH = 256
SCORE_BATCHES_PER_TICK = 40
# A score request or notice unanswered this long lost its message: send it again.
SCORE_REQUEST_STALE = timedelta(minutes=5)
# A post whose scoring failed this many times is left unscored (each failure was logged).
MAX_SCORE_ATTEMPTS = 5
NOTICE_STALE = timedelta(seconds=60)
# Each alert rule is evaluated at most this often (and at least this often while Beat ticks).
ALERT_EVERY = timedelta(seconds=60)
# A webhook attempt open this long lost its worker (tasks/webhooks.py sends within 10 s).
WEBHOOK_CLAIM_STALE = timedelta(seconds=60)


@dataclass
class Sent:
    watches: list[int] = field(default_factory=list)
    score_batches: list[tuple[str, list[int]]] = field(default_factory=list)
    notices: list[int] = field(default_factory=list)
    alerts: list[int] = field(default_factory=list)
    digests: list[int] = field(default_factory=list)
    webhooks: list[int] = field(default_factory=list)
    backfills: list[int] = field(default_factory=list)
    jobs: list[int] = field(default_factory=list)


def tick(session_factory: Callable[[], Session], now: datetime, send: Callable[..., None]) -> Sent:
    """One dispatcher pass. `send(task_name, *args)` hands a message to the broker; each step
    commits its claims before sending, and what a failed send leaves is claimed again later."""
    sent = Sent()

    def send_each(name: str, items: list, out: list) -> None:
        for args in items:
            try:
                send(name, *(args if isinstance(args, tuple) else (args,)))
            except Exception:
                log.warning("broker unavailable; %s waits for a later tick", name, exc_info=True)
                return
            out.append(args)

    with session_factory() as session, session.begin():
        due = watch_store.claim_due_watches(session, now)
    send_each("sentibot.collect_watch", due, sent.watches)
    with session_factory() as session, session.begin():
        batches = score_queue.claim_unscored(
            session,
            now,
            SCORE_REQUEST_STALE,
            SCORE_BATCH,
            SCORE_BATCHES_PER_TICK,
            MAX_SCORE_ATTEMPTS,
        )
    send_each("sentibot.score_posts", batches, sent.score_batches)
    with session_factory() as session, session.begin():
        notices = notice_store.unsent_notices(session, now - NOTICE_STALE)
    send_each("sentibot.send_notice", notices, sent.notices)
    with session_factory() as session, session.begin():
        rules = alert_store.claim_due_rules(session, now, ALERT_EVERY)
    send_each("sentibot.evaluate_alert", rules, sent.alerts)
    with session_factory() as session, session.begin():
        runs = digests.claim_due(session, now)
        runs += [
            r for r in digest_store.unsent_digest_runs(session, now - NOTICE_STALE) if r not in runs
        ]
    send_each("sentibot.send_digest", runs, sent.digests)
    with session_factory() as session:
        hooks = webhook_store.due(session, now, WEBHOOK_CLAIM_STALE)
    send_each("sentibot.deliver_webhook", hooks, sent.webhooks)
    with session_factory() as session, session.begin():
        backfills = backfill_store.claim_due(session, now)
    send_each("sentibot.backfill_source", backfills, sent.backfills)
    with session_factory() as session, session.begin():
        sent.jobs = sweep(session, now, lambda job_id, stage: send(STAGE_TASKS[stage], job_id))
    return sent


@app.task(name="sentibot.dispatch")
def dispatch() -> None:
    def send(name: str, *args: object) -> None:
        app.send_task(name, args=list(args), retry=False)

    sent = tick(sessionmaker_for(get_settings().effective_database_url), utcnow(), send)
    if (
        any(
            (
                sent.watches,
                sent.score_batches,
                sent.notices,
                sent.alerts,
                sent.digests,
                sent.webhooks,
                sent.backfills,
            )
        )
        or sent.jobs
    ):
        log.info(
            "dispatched: watches %s, %s score batches, notices %s, alerts %s, digests %s, "
            "webhook deliveries %s, backfills %s, re-sent jobs %s",
            sent.watches,
            len(sent.score_batches),
            sent.notices,
            sent.alerts,
            sent.digests,
            sent.webhooks,
            sent.backfills,
            sent.jobs,
        )
