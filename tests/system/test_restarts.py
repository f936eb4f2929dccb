"""Restarting the real servers under a running stack: redis-server and PostgreSQL SIGKILLed
with a task in flight and started again. The workers stay up, and each request is answered
once."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from devtools.stack import TEAM_ID, ServiceStack
from sentibot.embedded import drop_broker_keys
from tests.system.test_faults import _job, _wait

pytestmark = pytest.mark.slow


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
        edits_before = sum("chat.update" in p for p in stack.slack.arrived)
        stack.command("analyze widget --sources x", channel=first)
        _wait(lambda: _job(stack, first).stage == "notify", 60, "the notify stage")
        # Killed while the notify task is in flight: its edit of the report has reached Slack
        # (the progress edit before it was the first). Killed before the worker took the
        # message, the message would be lost with the broker's empty restart, which is the
        # sweeper's case, not this one.
        _wait(
            lambda: sum("chat.update" in p for p in stack.slack.arrived) >= edits_before + 2,
            60,
            "the report's edit in flight",
        )
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

    def __init__(self, bin_dir: Path, log_dir: Path) -> None:
        import os
        import tempfile

        from devtools.stack import free_port

        # Not under pytest's temporary directory: the `postgres` user must reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="sentibot-pg-"))
        self.bin, self.log_dir, self.port = bin_dir, log_dir, free_port()
        self.proc: subprocess.Popen | None = None
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        import shutil

        if self.as_user:
            shutil.chown(self.dir, "postgres", "postgres")
        subprocess.run(
            [*self.as_user, str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust",
             "-U", "postgres", "--no-sync"],
            check=True, capture_output=True,
        )  # fmt: skip

    def start(self) -> None:
        import psycopg

        log = open(self.log_dir / "postgres.log", "ab")  # noqa: SIM115 (lives with the process)
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

    def remove(self) -> None:
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


def test_a_postgresql_restart_with_a_task_in_flight_loses_and_repeats_nothing(
    redis_url: str, tmp_path: Path
) -> None:
    """PostgreSQL SIGKILLed while an analysis's source task waits on X, and started again (its
    data kept, as a crash leaves it): the worker stays up and the analysis is answered once."""
    bin_dir = _postgres_binaries()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries on this machine to start one of our own")
    server = _Postgres(bin_dir, tmp_path)
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
        server.remove()
        drop_broker_keys(redis_url, prefix)


def test_a_redis_restart_during_a_watch_run_loses_and_repeats_nothing(
    restartable: tuple[ServiceStack, _Redis],
) -> None:
    """A watch's run on its schedule: redis-server SIGKILLed while the run's X read is in
    flight, and started again empty. The run completes once (X's 40 posts linked, scored and
    billed once, not twice), the watch runs again on its schedule and the worker stays up."""
    from sqlalchemy import func, select

    from sentibot.storage.models import Score, SourceState, Watch, WatchPost, utcnow
    from sentibot.storage.session import sessionmaker_for
    from sentibot.storage.x_usage import x_read_today

    stack, server = restartable
    channel = "CRW" + uuid.uuid4().hex[:6].upper()
    sessions = sessionmaker_for(stack.effective_database_url)
    with sessions() as s:  # the module's other tests read X for the same workspace today
        x_before = x_read_today(s, TEAM_ID, utcnow())
    stack.x.slow_next("/2/tweets", 8.0)
    ack = stack.command("watch widget --sources x --every 1m --backfill 0", channel=channel)
    assert "Watching" in ack.json()["text"]
    with sessions() as s:
        watch_id = s.scalars(select(Watch.id).where(Watch.channel_id == channel)).one()
    _wait(lambda: any("/2/tweets" in p for p in stack.x.arrived), 90, "the watch's X read")
    worker = stack.processes["worker"]
    server.kill()
    time.sleep(2)
    server.start()

    def scored() -> int:
        with sessions() as s:
            return s.scalar(
                select(func.count())
                .select_from(WatchPost)
                .join(Score, Score.post_id == WatchPost.post_id)
                .where(WatchPost.watch_id == watch_id)
            )

    _wait(lambda: scored() == 40, 150, "the run's 40 posts linked and scored")
    with sessions() as s:
        assert s.get(SourceState, (watch_id, "x")).health == "ok"
        assert x_read_today(s, TEAM_ID, utcnow()) - x_before == 40
        first_run = s.get(Watch, watch_id).last_run_at

    def ran_again() -> bool:
        with sessions() as s:
            return s.get(Watch, watch_id).last_run_at != first_run

    _wait(ran_again, 120, "the next run on the schedule")
    assert worker.poll() is None, "the worker exited"
