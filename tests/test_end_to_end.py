"""A slash command travels Slack → bot (gunicorn) → Redis → Celery worker → Slack, for real.

The bot and the worker are separate processes started by `sentibot serve` and `sentibot
worker`; Slack, X and Reddit are the project's stand-ins; Redis and the database are real.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sentibot.devtools.slack_standin import Message
from sentibot.devtools.stack import ServiceStack
from sentibot.embedded import drop_broker_keys
from sentibot.storage.models import Job, Post, Score
from sentibot.storage.session import make_engine, make_sessionmaker
from sentibot.tasks.celery_app import create_celery

pytestmark = pytest.mark.slow


def _stack(tmp: Path, database_url: str, redis_url: str, **kwargs: object) -> ServiceStack:
    return ServiceStack(
        data_dir=tmp,
        database_url=database_url,
        redis_url=redis_url,
        broker_prefix=f"sentibot-e2e-{uuid.uuid4().hex[:8]}:",
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def stack(
    migrated_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceStack]:
    with _stack(tmp_path_factory.mktemp("stack"), migrated_url, redis_url) as running:
        yield running
    drop_broker_keys(redis_url, running.broker_prefix)


def _channel() -> str:
    return "C" + uuid.uuid4().hex[:8].upper()


def _wait_message(stack: ServiceStack, channel: str, timeout: float = 60) -> Message:
    found = stack.slack.wait_for(lambda s: s.messages_in(channel), timeout=timeout)
    assert found, f"nothing posted to {channel}; logs in {stack.data_dir}"
    return found[0]


def _finished_job(stack: ServiceStack, channel: str, timeout: float = 30) -> Job:
    """The channel's job once the worker has recorded its end (just after posting)."""
    deadline = time.monotonic() + timeout
    while (job := _job(stack, channel)).state not in ("done", "failed"):
        assert time.monotonic() < deadline, f"job still {job.state}; logs in {stack.data_dir}"
        time.sleep(0.1)
    return job


def _job(stack: ServiceStack, channel: str) -> Job:
    sessions = make_sessionmaker(make_engine(stack.effective_database_url))
    with sessions() as s:
        return s.scalars(select(Job).where(Job.channel_id == channel)).one()


def test_analyze_posts_one_summary_to_the_channel(stack: ServiceStack) -> None:
    channel = _channel()
    ack = stack.command("analyze acme", channel=channel)
    assert ack.status_code == 200
    assert "Analyzing “acme”" in ack.json()["text"]

    message = _wait_message(stack, channel)
    body = json.dumps(message.blocks, ensure_ascii=False)
    assert "acme" in message.text
    assert "80 posts" in body  # the demo corpus gives 40 per source
    assert "*X*: 40 posts" in body
    assert "*Reddit*: 40 posts" in body
    assert "negative" in body and "neutral" in body and "positive" in body  # noqa: PT018

    job = _finished_job(stack, channel)
    assert job.state == "done"
    assert job.message_ts == message.ts
    sessions = make_sessionmaker(make_engine(stack.effective_database_url))
    with sessions() as s:
        assert (
            s.scalar(select(func.count()).select_from(Post).where(Post.text.contains("acme"))) >= 80
        )
        assert s.scalar(select(func.count()).select_from(Score)) >= 80
    stack.slack.wait_for(lambda s: False, timeout=1.0)
    assert len(stack.slack.messages_in(channel)) == 1


def test_a_failing_source_is_named_and_the_others_still_report(stack: ServiceStack) -> None:
    channel = _channel()
    stack.x.fail_next("/2/tweets/search/recent", 401, body={"title": "Unauthorized"})
    stack.command("analyze widget", channel=channel)
    message = _wait_message(stack, channel)
    body = json.dumps(message.blocks)
    assert "*X*: failed, X rejected the bearer token (401)" in body
    assert "*Reddit*: 40 posts" in body


def test_slack_429_waits_and_posts_once(stack: ServiceStack) -> None:
    channel = _channel()
    stack.slack.fail_next(
        "chat.postMessage",
        429,
        headers={"Retry-After": "1"},
        body={"ok": False, "error": "ratelimited"},
    )
    stack.command("analyze gizmo --sources x", channel=channel)
    message = _wait_message(stack, channel)
    assert "gizmo" in message.text
    assert len(stack.slack.requests_to("chat.postMessage")) >= 2
    assert len(stack.slack.messages_in(channel)) == 1


def test_not_in_channel_answers_through_response_url(stack: ServiceStack) -> None:
    channel = _channel()
    stack.slack.not_member.add(channel)
    before = len(stack.slack.responses)
    stack.command("analyze doohickey --sources reddit", channel=channel)
    found = stack.slack.wait_for(lambda s: s.responses[before:], timeout=60)
    assert found, "no response_url answer"
    assert found[0]["response_type"] == "in_channel"
    assert "doohickey" in found[0]["text"]
    assert stack.slack.messages_in(channel) == []


def test_a_redelivered_notify_edits_instead_of_posting_again(stack: ServiceStack) -> None:
    channel = _channel()
    stack.command("analyze sprocket --sources x", channel=channel)
    message = _wait_message(stack, channel)
    job = _finished_job(stack, channel)
    sessions = make_sessionmaker(make_engine(stack.effective_database_url))
    with sessions.begin() as s:  # as if the worker died after posting, before marking done
        s.get(Job, job.id).state = "started"
    sender = create_celery(stack.settings())
    sender.send_task("sentibot.notify", args=[job.id])
    sender.close()
    assert stack.slack.wait_for(lambda s: message.edits == 1, timeout=30)
    assert len(stack.slack.messages_in(channel)) == 1
    assert _finished_job(stack, channel).state == "done"


def test_unconfigured_sources_are_skipped_and_said_so(
    migrated_url: str, redis_url: str, tmp_path: Path
) -> None:
    with _stack(tmp_path, migrated_url, redis_url, configure_reddit=False) as running:
        channel = _channel()
        running.command("analyze acme", channel=channel)
        message = _wait_message(running, channel)
    body = json.dumps(message.blocks)
    assert "*Reddit*: skipped, not configured (REDDIT_CLIENT_ID is not set)" in body
    assert "*X*: 40 posts" in body


def test_a_job_that_cannot_run_tells_the_user_why(
    migrated_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = {"SENTIMENT_MODEL": "no-such-model"}
    with _stack(tmp_path, migrated_url, redis_url, extra_env=env) as running:
        channel = _channel()
        running.command("analyze acme --sources x", channel=channel)
        message = _wait_message(running, channel)
        job = _finished_job(running, channel)
    assert "failed" in message.text
    assert "unknown sentiment model 'no-such-model'" in message.text
    assert job.state == "failed"
