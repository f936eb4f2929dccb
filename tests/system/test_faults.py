"""Breaking things for real: a worker SIGKILLed mid-task, a broker that lost its queues, a
broker down while commands arrive. Each time the user gets one answer, and nothing twice."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from devtools.stack import ServiceStack
from sentibot.embedded import drop_broker_keys
from sentibot.storage.models import Job, utcnow
from sentibot.storage.session import sessionmaker_for
from tasks.celery_app import create_celery
from tasks.dispatch import tick

pytestmark = pytest.mark.slow


@pytest.fixture
def stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[ServiceStack]:
    prefix = f"sentibot-faults-{uuid.uuid4().hex[:8]}:"
    with ServiceStack(
        data_dir=tmp_path, database_url=database_url, redis_url=redis_url, broker_prefix=prefix
    ) as running:
        yield running
    drop_broker_keys(redis_url, prefix)


def _job(stack: ServiceStack, channel: str) -> Job:
    with sessionmaker_for(stack.effective_database_url)() as s:
        return s.scalars(select(Job).where(Job.channel_id == channel)).one()


def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.2)
    return value


def _sweep_later(stack: ServiceStack, seconds: float) -> list[int]:
    """A dispatcher tick as if `seconds` had passed (the sweeper's staleness limits)."""
    sender = create_celery(stack.settings())
    try:
        sent = tick(
            sessionmaker_for(stack.effective_database_url),
            utcnow() + timedelta(seconds=seconds),
            lambda name, *args: sender.send_task(name, args=list(args)),
        )
    finally:
        sender.close()
    return sent.jobs


def test_a_worker_killed_mid_task_is_recovered_by_the_sweeper(stack: ServiceStack) -> None:
    channel = "CKILL" + uuid.uuid4().hex[:6].upper()
    stack.x.slow_next("/2/tweets", 8.0)  # the collection takes long enough to kill it
    stack.command("analyze widget --sources x", channel=channel)
    _wait(lambda: stack.x.requests_to("/2/tweets"), 30, "the worker to start collecting")
    stack.stop_process("worker", kill=True)  # SIGKILL the whole worker, mid-task
    assert _job(stack, channel).state == "started"
    stack.start_worker()
    # The message is unacknowledged in Redis (its visibility timeout is an hour): only the
    # sweeper brings the job back, once the stage is older than the task time limit.
    job_id = _job(stack, channel).id
    assert job_id not in _sweep_later(stack, 60)  # a started stage gets its time limit
    assert job_id in _sweep_later(stack, 400)
    job = _wait(
        lambda: (j := _job(stack, channel)).state in ("done", "failed") and j, 120, "recovery"
    )
    assert job.state == "done"
    stack.slack.wait_for(lambda s: False, timeout=1.0)
    assert len(stack.slack.messages_in(channel)) == 1


def test_a_broker_that_lost_its_queues_loses_no_request(stack: ServiceStack) -> None:
    import redis

    channel = "CLOST" + uuid.uuid4().hex[:6].upper()
    stack.stop_process("worker")
    ack = stack.command("analyze gizmo --sources x", channel=channel)
    assert ack.status_code == 200
    # A broker restarted without persistence: every queued message is gone.
    client = redis.Redis.from_url(stack.redis_url)
    for key in client.scan_iter(f"{stack.broker_prefix}*"):
        client.delete(key)
    stack.start_worker()
    time.sleep(3)
    assert _job(stack, channel).state == "queued"  # nothing will ever run it, but the row
    assert _job(stack, channel).id in _sweep_later(stack, 61)
    job = _wait(lambda: (j := _job(stack, channel)).state == "done" and j, 60, "the answer")
    assert job.attempts == 1
    assert len(stack.slack.messages_in(channel)) == 1
