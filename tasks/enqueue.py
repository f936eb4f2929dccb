"""Sending stage messages to the broker, by job id only."""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time
from collections.abc import Callable

from celery import Celery

from sentibot.storage.models import JobStage

log = logging.getLogger(__name__)

STAGE_TASKS: dict[str, str] = {
    JobStage.COLLECT: "sentibot.collect",
    JobStage.SCORE: "sentibot.score",
    JobStage.NOTIFY: "sentibot.notify",
}


def stage_sender(app: Celery) -> Callable[[int, str], None]:
    def send(job_id: int, stage: str) -> None:
        # retry=False: a dead broker fails now; the Job row stays and the sweeper sends it later.
        app.send_task(STAGE_TASKS[stage], args=[job_id], retry=False)

    return send


class JobEnqueuer:
    """The bot's `enqueue`: hands a stored job's id to one sending thread and returns, so a
    slash command is answered after its one database write, not after the broker too. The
    thread sends whatever has gathered as one batch (one Redis pipeline) through one producer.
    A job whose message never left (the broker was down, or the process died first) is still
    a queued row: the dispatcher re-sends it after `tasks.dispatch.QUEUED_STALE_AFTER`."""

    BATCH = 100

    def __init__(self, app: Celery) -> None:
        self._app = app
        self._waiting: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._pending = 0
        self._idle = threading.Condition()
        self._owner_pid = 0
        self._lock = threading.Lock()

    def __call__(self, job_id: int) -> None:
        self._start_once()
        with self._idle:
            self._pending += 1
        self._waiting.put(job_id)

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every id handed over so far was sent or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def _start_once(self) -> None:
        # Per process: a server that forks after building the app gets its own thread.
        if self._owner_pid == os.getpid():
            return
        with self._lock:
            if self._owner_pid != os.getpid():
                threading.Thread(target=self._run, name="job-enqueuer", daemon=True).start()
                atexit.register(self.flush, 2.0)
                self._owner_pid = os.getpid()

    def _run(self) -> None:
        while True:
            batch = [self._waiting.get()]
            while len(batch) < self.BATCH:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                self._send(batch)
            except Exception:
                log.warning(
                    "jobs %s stored but not enqueued; the sweeper will retry",
                    batch,
                    exc_info=True,
                )
            finally:
                with self._idle:
                    self._pending -= len(batch)
                    self._idle.notify_all()

    def _send(self, job_ids: list[int]) -> None:
        name = STAGE_TASKS[JobStage.COLLECT]
        with self._app.producer_or_acquire() as producer, producer.batch():
            for job_id in job_ids:
                self._app.send_task(name, args=[job_id], producer=producer, retry=False)


def job_enqueuer(app: Celery) -> JobEnqueuer:
    return JobEnqueuer(app)


def enqueue_stage(job_id: int, stage: str) -> None:
    """Send a stage through the process's Celery app (the one workers run)."""
    from tasks.celery_app import app

    stage_sender(app)(job_id, stage)
