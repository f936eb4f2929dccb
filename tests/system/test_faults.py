"""Breaking things for real, on a real clock with Beat ticking: a worker SIGKILLed mid-task and
a broker that lost its queues. Each time the user gets one answer in time, and nothing twice."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from devtools.stack import ServiceStack
from sentibot.embedded import drop_broker_keys
from sentibot.storage.models import Job
from sentibot.storage.session import sessionmaker_for
from tasks.dispatch import QUEUED_STALE_AFTER

pytestmark = pytest.mark.slow


def _job(stack: ServiceStack, channel: str) -> Job:
    with sessionmaker_for(stack.effective_database_url)() as s:
        return s.scalars(select(Job).where(Job.channel_id == channel)).one()


def _wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out: {what}"
        time.sleep(0.2)
    return value


@pytest.fixture
def beating_stack(database_url: str, redis_url: str, tmp_path: Path) -> Iterator[ServiceStack]:
    """The stack with Beat ticking the dispatcher on its real schedule."""
    prefix = f"sentibot-kill-{uuid.uuid4().hex[:8]}:"
    with ServiceStack(
        data_dir=tmp_path,
        database_url=database_url,
        redis_url=redis_url,
        broker_prefix=prefix,
        start_beat_process=True,
        sentiment_model="vader",
    ) as running:
        yield running
    drop_broker_keys(redis_url, prefix)


def test_a_worker_killed_after_slack_answered_is_recovered_in_time_and_posts_once(
    beating_stack: ServiceStack,
) -> None:
    """SIGKILL lands after Slack took the progress message and before its ts was stored: no
    clock is moved, Beat ticks for real, and the promise is an answer within two minutes of
    another worker starting, in one message."""
    stack, channel = beating_stack, "CKILL" + uuid.uuid4().hex[:6].upper()
    # Slack keeps the message at once but answers late: the worker dies not knowing its ts.
    stack.slack.slow_next("chat.postMessage", 30.0, after=True)
    stack.command("analyze widget --sources x", channel=channel)
    _wait(lambda: stack.slack.messages_in(channel), 60, "the progress message to reach Slack")
    assert _job(stack, channel).worker, "the collecting worker holds the job"
    stack.stop_process("worker", kill=True)  # SIGKILL the whole worker, mid-task
    assert _job(stack, channel).message_ts is None
    started = time.monotonic()
    stack.start_worker()
    job = _wait(
        lambda: (j := _job(stack, channel)).state in ("done", "failed") and j, 120, "recovery"
    )
    waited = time.monotonic() - started
    assert job.state == "done", job.error
    assert waited < 120
    stack.slack.wait_for(lambda s: False, timeout=2.0)
    (message,) = stack.slack.messages_in(channel)  # found by its key and edited, not reposted
    assert message.ts == job.message_ts
    assert "widget" in message.text
    assert message.edits >= 1
    assert job.attempts == 1
    assert job.worker is None


def test_a_broker_that_lost_its_queues_loses_no_request(beating_stack: ServiceStack) -> None:
    import redis

    stack, channel = beating_stack, "CLOST" + uuid.uuid4().hex[:6].upper()
    stack.stop_process("worker")
    ack = stack.command("analyze gizmo --sources x", channel=channel)
    assert ack.status_code == 200
    client = redis.Redis.from_url(stack.redis_url)
    # The bot sends just after answering: wait until the message is on the broker.
    _wait(lambda: client.llen(f"{stack.broker_prefix}collect"), 10, "the message on the broker")
    # A broker restarted without persistence: every queued message is gone.
    for key in client.scan_iter(f"{stack.broker_prefix}*"):
        client.delete(key)
    stack.start_worker()
    # Only the row is left; the sweeper re-sends it once it has waited QUEUED_STALE_AFTER.
    job = _wait(lambda: (j := _job(stack, channel)).state == "done" and j, 120, "the answer")
    assert job.attempts == 1
    assert job.updated_at - job.created_at >= QUEUED_STALE_AFTER
    assert len(stack.slack.messages_in(channel)) == 1


def test_a_source_task_killed_mid_search_is_sent_again_and_the_others_kept(
    beating_stack: ServiceStack,
) -> None:
    """An analysis's sources are separate tasks: the worker dies while X's task waits on X,
    after Hacker News reported. On a real clock the X task is sent again, alone, and the
    report carries both sources once."""
    stack, channel = beating_stack, "CSRC" + uuid.uuid4().hex[:6].upper()
    stack.x.slow_next("/2/tweets", 60.0)  # X's first search hangs past the kill
    stack.command("analyze widget --sources x,hn", channel=channel)
    _wait(lambda: "hn" in (_job(stack, channel).source_reports or {}), 60, "Hacker News")
    _wait(lambda: any("/2/tweets" in p for p in stack.x.arrived), 30, "X's task to ask X")
    stack.stop_process("worker", kill=True)
    hn_searches = len(stack.hn.requests_to("/api/v1"))
    started = time.monotonic()
    stack.start_worker()
    job = _wait(
        lambda: (j := _job(stack, channel)).state in ("done", "failed") and j, 120, "recovery"
    )
    waited = time.monotonic() - started
    assert job.state == "done", job.error
    assert waited < 120
    assert job.source_reports["x"]["status"] == "ok"
    assert job.source_reports["x"]["count"] > 0
    assert len(stack.hn.requests_to("/api/v1")) == hn_searches  # HN was not asked again
    stack.slack.wait_for(lambda s: False, timeout=2.0)
    (message,) = stack.slack.messages_in(channel)
    assert "widget" in message.text
