"""A job stage's heartbeat: the worker holding a stage says so every few seconds, so the
dispatcher notices a dead worker (SIGKILL, OOM, a lost machine) in seconds instead of waiting
out the task time limit."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from sentibot.storage import jobs as job_store
from sentibot.storage.models import Job, utcnow
from tasks.runtime import sessions

log = logging.getLogger(__name__)

# How often a working stage says it is alive; the dispatcher's SILENT_AFTER is several of these.
HEARTBEAT_EVERY_S = 5.0


def worker_name() -> str:
    return f"{socket.gethostname()} {os.getpid()}"


def _beat(job_id: int, worker: str, stage: str | None) -> None:
    with sessions().begin() as session:
        job_store.beat(session, job_id, worker, utcnow(), stage)


class Hold:
    """A stage's hold on its job; `keep()` leaves the heartbeat in place when the stage ends
    (other tasks of the same stage still run: if they die, the job goes silent)."""

    def __init__(self, job_id: int, worker: str) -> None:
        self.job_id, self.worker = job_id, worker
        self.stage: str | None = None
        self.kept = False
        self.released = False

    def keep(self) -> None:
        self.kept = True

    def beat(self, session: Session, job: Job) -> None:
        """The first beat, in the stage's own first transaction (not one of its own)."""
        self.stage = job.stage
        job_store.beat(session, self.job_id, self.worker, utcnow(), job.stage)

    def let_go(self, job: Job) -> None:
        """Let go in the stage's last transaction (the one that moves the job on), not in one
        of its own; later beats hold nothing, as the stage has moved on."""
        if job.worker == self.worker:
            job.worker, job.heartbeat_at = None, None
        self.released = True


@contextmanager
def heartbeat(
    job_id: int, every_s: float = HEARTBEAT_EVERY_S, *, beat_now: bool = False
) -> Iterator[Hold]:
    """Hold job `job_id`'s stage for the body: the body beats first, in its first transaction
    (`hold.beat`), or, with `beat_now`, a short transaction of its own does (a stage whose
    first transaction is long, scoring or rendering, must not hold a write lock through it);
    then a thread every `every_s` seconds; let go at the end (a failing body lets go too)
    unless the body kept it."""
    worker = worker_name()
    stop = threading.Event()
    hold = Hold(job_id, worker)
    if beat_now:
        with sessions().begin() as session:
            job = session.get(Job, job_id)
            if job is not None:
                hold.beat(session, job)

    def keep_beating() -> None:
        while not stop.wait(every_s):
            try:
                _beat(job_id, worker, hold.stage)
            except Exception:  # a missed beat is retried; too many and the stage is re-sent
                log.warning("job %s: heartbeat not recorded", job_id, exc_info=True)

    thread = threading.Thread(target=keep_beating, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield hold
    except BaseException:
        hold.released = False  # a release in the body's transaction rolled back with it
        raise
    finally:
        stop.set()
        thread.join(timeout=every_s)
        if not hold.kept and not hold.released:
            try:
                with sessions().begin() as session:
                    job_store.release(session, job_id, worker)
            except Exception:
                log.warning("job %s: heartbeat not released", job_id, exc_info=True)
