"""Breaking things for real, on a real clock with Beat ticking: a worker SIGKILLed mid-task and
a broker that lost its queues. Each time the user gets one answer in time, and nothing twice."""

from __future__ import annotations

import subprocess
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


class _Redis:
    """A redis-server of the test's own, on a TCP port, that can be SIGKILLed and started
    again empty (no persistence), as a real restart of a cache-only broker."""

    def __init__(self, data_dir: Path) -> None:
        from devtools.stack import free_port

        self.data_dir, self.port = data_dir, free_port()
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        from sentibot.embedded import redis_server_binary

        log = open(self.data_dir / "redis.log", "ab")  # noqa: SIM115 (lives with the process)
        self.proc = subprocess.Popen(
            [redis_server_binary(), "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        _wait(lambda: _pings(redis.Redis.from_url(self.url)), 10, "redis-server to start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


def _pings(client) -> bool:
    import redis

    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.fixture
def restartable(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[ServiceStack, _Redis]]:
    """The stack on a Redis of the test's own, to restart (the fault is the broker's: the
    database is the one every machine has)."""
    server = _Redis(tmp_path)
    server.start()
    try:
        with ServiceStack(
            data_dir=tmp_path,
            database_url=sqlite_url,
            redis_url=server.url,
            broker_prefix="sentibot-restart:",
            start_beat_process=True,
            sentiment_model="vader",
        ) as running:
            yield running, server
    finally:
        server.kill()


@pytest.mark.parametrize("stage", ["collect", "notify"])
def test_a_redis_restart_with_a_task_in_flight_leaves_the_worker_serving(
    restartable: tuple[ServiceStack, _Redis], stage: str
) -> None:
    """redis-server SIGKILLed while a task of the analysis runs (X's search, or the post to
    Slack), and started again empty. The worker stays up and the analysis is answered once; in
    the notify case a request taken while Redis was down is answered too (the dispatcher sends
    it again once it has waited QUEUED_STALE_AFTER)."""
    stack, server = restartable
    first, during = "CRA" + uuid.uuid4().hex[:6].upper(), "CRB" + uuid.uuid4().hex[:6].upper()
    if stage == "collect":
        stack.x.slow_next("/2/tweets", 8.0)
        stack.command("analyze widget --sources x", channel=first)
        _wait(lambda: any("/2/tweets" in p for p in stack.x.arrived), 60, "X's search to start")
    else:
        stack.slack.slow_next("chat.update", 8.0, times=3)
        stack.command("analyze widget --sources x", channel=first)
        _wait(lambda: _job(stack, first).stage == "notify", 60, "the notify stage")
    worker = stack.processes["worker"]
    server.kill()
    asked = [(first, "widget")]
    if stage == "notify":
        started = time.monotonic()
        ack = stack.command("analyze gizmo --sources x", channel=during)
        assert ack.status_code == 200
        assert time.monotonic() - started < 3.0  # acknowledged with the broker down
        asked.append((during, "gizmo"))
    time.sleep(2)
    server.start()
    for channel, _ in asked:
        job = _wait(
            lambda c=channel: (j := _job(stack, c)).state in ("done", "failed") and j,
            150,
            f"the answer in {channel}",
        )
        assert job.state == "done", job.error
    assert worker.poll() is None, "the worker exited"
    stack.slack.wait_for(lambda s: False, timeout=2.0)
    for channel, topic in asked:
        messages = stack.slack.messages_in(channel)
        assert len(messages) == 1, [m.text for m in messages]
        assert topic in messages[0].text


def _postgres_binaries() -> Path | None:
    import shutil

    found = shutil.which("postgres")
    if found:
        return Path(found).parent
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "postgres").exists():
            return candidate
    return None


class _Postgres:
    """A PostgreSQL cluster of the test's own (initdb in a temporary directory, trust auth on
    127.0.0.1), to SIGKILL and start again; as the `postgres` user when the tests run as root,
    as the server refuses root."""

    def __init__(self, bin_dir: Path, data_dir: Path) -> None:
        import os

        from devtools.stack import free_port

        self.bin, self.dir, self.port = bin_dir, data_dir, free_port()
        self.proc: subprocess.Popen | None = None
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        import shutil

        self.dir.mkdir(parents=True)
        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            [*self.as_user, str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust",
             "-U", "postgres", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip

    def start(self) -> None:
        import psycopg

        log = open(self.dir.parent / "postgres.log", "ab")  # noqa: SIM115 (lives with the process)
        self.proc = subprocess.Popen(
            [*self.as_user, str(self.bin / "postgres"), "-D", str(self.dir / "data"),
             "-p", str(self.port), "-k", str(self.dir), "-c", "listen_addresses=127.0.0.1",
             "-c", "fsync=off"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        def accepts() -> bool:
            try:
                psycopg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres").close()
                return True
            except psycopg.OperationalError:
                return False

        _wait(accepts, 30, "postgres to start")

    def kill(self) -> None:
        import os
        import signal

        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def test_a_postgresql_restart_with_a_task_in_flight_loses_and_repeats_nothing(
    redis_url: str, tmp_path: Path
) -> None:
    """PostgreSQL SIGKILLed while an analysis's source task waits on X, and started again (its
    data kept, as a crash leaves it): the worker stays up and the analysis is answered once."""
    bin_dir = _postgres_binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries on this machine to start one of our own")
    server = _Postgres(bin_dir, tmp_path / "pg")
    server.init()
    server.start()
    prefix = f"sentibot-pg-{uuid.uuid4().hex[:8]}:"
    try:
        with ServiceStack(
            data_dir=tmp_path / "stack",
            database_url=server.url,
            redis_url=redis_url,
            broker_prefix=prefix,
            start_beat_process=True,
            sentiment_model="vader",
        ) as stack:
            channel = "CPG" + uuid.uuid4().hex[:6].upper()
            stack.x.slow_next("/2/tweets", 8.0)
            stack.command("analyze widget --sources x", channel=channel)
            _wait(lambda: any("/2/tweets" in p for p in stack.x.arrived), 60, "X's search")
            worker = stack.processes["worker"]
            server.kill()
            time.sleep(3)
            server.start()
            job = _wait(
                lambda: (j := _job(stack, channel)).state in ("done", "failed") and j,
                150,
                "the answer after the database came back",
            )
            assert job.state == "done", job.error
            assert worker.poll() is None, "the worker exited"
            stack.slack.wait_for(lambda s: False, timeout=2.0)
            (message,) = stack.slack.messages_in(channel)
            assert "widget" in message.text
    finally:
        server.kill()
        drop_broker_keys(redis_url, prefix)
