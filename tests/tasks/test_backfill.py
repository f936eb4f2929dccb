"""A new watch's backfill, run as the worker runs it: the real X stand-in (search and counts),
the Slack stand-in for its notices, and a real database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
import redis
from celery import Celery
from sqlalchemy import func, select

from bot.views.backfills import APPROVE_ACTION, SKIP_ACTION
from devtools.corpus import CorpusPost, StaticCorpus
from devtools.slack_standin import SlackStandIn
from devtools.twitter_standin import TwitterStandIn
from sentibot.config.settings import get_settings
from sentibot.monitoring import backfills, digests
from sentibot.sentiment import Sentiment
from sentibot.storage import backfills as backfill_store
from sentibot.storage import digests as digest_store
from sentibot.storage import posts as post_store
from sentibot.storage import watches as watch_store
from sentibot.storage import x_usage
from sentibot.storage.models import Backfill, DigestRun, Notice, Watch, WatchPost, utcnow
from tasks.backfill import backfill_source
from tasks.celery_app import app, celery_config
from tasks.dispatch import tick
from tasks.notices import send_notice
from tests.tasks.environment import worker_env as base_env
from tests.tasks.environment import worker_settings

NEUTRAL = Sentiment("neutral", 0.0, 0.0, 1.0, 0.0)
HOURS = 300  # one post an hour for 12.5 days: X's search reaches back seven of them


@pytest.fixture
def x_history() -> Iterator[TwitterStandIn]:
    now = utcnow().replace(microsecond=0)
    posts = [
        CorpusPost(
            id=str(10_000 + i),
            text=f"acme post {i} from someone with an opinion",
            author=f"user{i}",
            created_at=now - timedelta(hours=i, minutes=30),
        )
        for i in range(HOURS)
    ]
    with TwitterStandIn(StaticCorpus(posts)) as standin:
        yield standin


@pytest.fixture
def worker_env(database_url, redis_url, broker_prefix, x_history, monkeypatch):
    """The environment a backfill worker reads (X cap 1,000; ask above 25% of it)."""
    with SlackStandIn() as slack:
        env = {
            **base_env(slack, database_url, redis_url, broker_prefix),
            "TWITTER_BEARER_TOKEN": x_history.bearer_token,
            "TWITTER_API_URL": x_history.url,
            "X_DAILY_POST_CAP": "1000",
            "BACKFILL_CONFIRM_SHARE": "0.25",
        }
        with worker_settings(monkeypatch, env), _broker(app, celery_config(get_settings())):
            yield slack


@contextmanager
def _broker(celery: Celery, config: dict) -> Iterator[None]:
    """The workers' app sends to this test's Redis (its notices are queued for real)."""
    keys = ("broker_url", "broker_transport_options")
    before = {k: celery.conf[k] for k in keys}
    celery.conf.update({k: config[k] for k in keys})
    celery._pool, celery.amqp._producer_pool = None, None
    try:
        yield
    finally:
        celery.conf.update(before)
        celery.pool.force_close_all()
        celery._pool, celery.amqp._producer_pool = None, None


def _queued(redis_url: str, prefix: str, queue: str) -> int:
    return int(redis.Redis.from_url(redis_url).llen(f"{prefix}{queue}"))


def _new_watch(
    sessions, sources=("x",), back=timedelta(days=14), channel: str = "C1"
) -> tuple[int, list[int]]:
    with sessions.begin() as s:
        watch, _ = watch_store.upsert_watch(
            s,
            team_id="T1",
            channel_id=channel,
            topic="acme",
            sources=sources,
            every_s=900,
            model="vader",
            user_id="U1",
            now=utcnow(),
        )
        planned = backfills.plan(s, watch, int(back.total_seconds()), utcnow())
        return watch.id, [b.id for b in planned]


def _claimed(sessions) -> list[int]:
    sent: list[tuple] = []
    tick(sessions, utcnow(), lambda name, *args: sent.append((name, *args)))
    return [args[0] for name, *args in sent if name == "sentibot.backfill_source"]


def test_x_says_its_cost_then_reads_back_as_far_as_search_goes(
    sessions, worker_env, x_history
) -> None:
    watch_id, (backfill_id,) = _new_watch(sessions)
    with sessions() as s:  # asked for 14 days; X's recent search reaches 7
        assert utcnow() - s.get(Backfill, backfill_id).since < timedelta(days=7, minutes=1)
    assert _claimed(sessions) == [backfill_id]
    assert _claimed(sessions) == []  # claimed once: the next tick does not send it again
    backfill_source(backfill_id)

    with sessions() as s:
        row = s.get(Backfill, backfill_id)
        assert row.state == "done"
        assert 166 <= row.posts <= 168  # the posts of the last seven days, not older
        linked = s.scalar(select(func.count()).select_from(WatchPost))
        assert linked == row.posts
        # Told before spending, in the channel; billed what X returned, no more.
        cost, done = s.scalars(select(Notice).order_by(Notice.id)).all()
        assert f"costs about *{row.posts} posts*" in cost.text
        assert "Read back 7 days" in done.text
        assert f"X {row.posts} posts ✓" in done.text
        assert x_usage.x_read_today(s, "T1", utcnow()) == row.posts
        # The watch's history now starts seven days back: a window three days ago counts.
        watch = s.get(Watch, watch_id)
        assert watch.history_start <= utcnow() - timedelta(days=6, hours=23)
        day = utcnow() - timedelta(days=3)
        (count,) = post_store.window_counts(s, watch, [(day, day + timedelta(hours=5))])
        assert count == 5
    # The first digest, the day after the watch began, compares against the day before.
    with sessions.begin() as s:
        ids = [pid for (pid,) in s.execute(select(WatchPost.post_id))]
        watch = s.get(Watch, watch_id)
        post_store.store_scores(s, watch.model, [(i, NEUTRAL) for i in ids])
        digest = digest_store.set_digest(
            s, team_id="T1", channel_id="C1", cadence="daily", local_time="09:00", tz="UTC",
            weekday=None, next_due_at=utcnow(), user_id="U1",
        )  # fmt: skip
        end = utcnow()
        run = DigestRun(
            digest_id=digest.id, team_id="T1", channel_id="C1",
            period_start=end - timedelta(days=1), period_end=end,
        )  # fmt: skip
        s.add(run)
        s.flush()
        (topic,) = digests.build(s, run).topics
        assert (topic.current.count, topic.previous.count) == (24, 24)
    # Search was asked from seven days back (X refuses older), every page of it.
    searches = x_history.requests_to("/2/tweets/search/recent")
    assert len(searches) == 2
    start = datetime.fromisoformat(searches[0].query["start_time"].replace("Z", "+00:00"))
    week_ago = utcnow() - timedelta(days=7)
    assert week_ago - timedelta(minutes=5) < start < week_ago + timedelta(minutes=5)


def test_above_the_share_it_asks_and_spends_nothing_until_approved(
    sessions, worker_env, x_history, monkeypatch, redis_url, broker_prefix
) -> None:
    monkeypatch.setenv("X_DAILY_POST_CAP", "600")  # 168 posts are more than 25% of it
    get_settings.cache_clear()
    watch_id, (backfill_id,) = _new_watch(sessions)
    _claimed(sessions)
    backfill_source(backfill_id)
    with sessions() as s:
        row = s.get(Backfill, backfill_id)
        assert (row.state, row.estimate) == ("confirm", 168)
        (question,) = s.scalars(select(Notice)).all()
        assert "costs about *168 posts*" in question.text
        assert "Read them?" in question.text
        actions = [e["action_id"] for b in question.blocks if b["type"] == "actions"
                   for e in b["elements"]]  # fmt: skip
        assert actions == [APPROVE_ACTION, SKIP_ACTION]
        assert x_usage.x_read_today(s, "T1", utcnow()) == 0
    assert x_history.requests_to("/2/tweets/search/recent") == []
    assert _claimed(sessions) == []  # waiting for a person, not for the dispatcher
    assert _queued(redis_url, broker_prefix, "notify") == 1  # the question's message
    send_notice(question.id)
    (posted,) = worker_env.messages_in("C1")
    assert "Read 168 X posts" in json.dumps(posted.blocks)

    with sessions.begin() as s:
        assert backfill_store.answer(s, backfill_id, "T2", True, utcnow(), "C1") is None
        # The workspace's, but pressed in another of its channels: it decides nothing.
        assert backfill_store.answer(s, backfill_id, "T1", True, utcnow(), "C2") is None
        approved = backfill_store.answer(s, backfill_id, "T1", True, utcnow(), "C1")
        assert approved.state == "approved"
    assert _claimed(sessions) == [backfill_id]
    backfill_source(backfill_id)
    with sessions() as s:
        assert s.get(Backfill, backfill_id).state == "done"
        assert len(s.scalars(select(Notice)).all()) == 2  # the question and the end: no re-ask
        assert x_usage.x_read_today(s, "T1", utcnow()) == 168


def test_skipping_x_leaves_its_history_out_of_the_baseline(
    sessions, worker_env, monkeypatch
) -> None:
    monkeypatch.setenv("X_DAILY_POST_CAP", "600")
    get_settings.cache_clear()
    watch_id, (backfill_id,) = _new_watch(sessions)
    _claimed(sessions)
    backfill_source(backfill_id)
    with sessions.begin() as s:
        backfill_store.answer(s, backfill_id, "T1", False, utcnow(), "C1")
        assert backfill_store.settle_history(s, watch_id) is not None
    with sessions() as s:
        assert s.get(Backfill, backfill_id).state == "skipped"
        watch = s.get(Watch, watch_id)
        assert watch.history_start == watch.created_at  # nothing read: history starts now
        assert x_usage.x_read_today(s, "T1", utcnow()) == 0


def test_a_failing_source_is_tried_again_then_reported_without_moving_history(
    sessions, worker_env, x_history
) -> None:
    watch_id, (backfill_id,) = _new_watch(sessions)
    for _ in range(backfill_store.MAX_ATTEMPTS):
        x_history.fail_next("/2/tweets/counts/recent", 401)
        with sessions.begin() as s:  # the claim went stale: the dispatcher sends it again
            s.get(Backfill, backfill_id).claimed_at = None
        assert _claimed(sessions) == [backfill_id]
        backfill_source(backfill_id)
    with sessions() as s:
        row = s.get(Backfill, backfill_id)
        assert row.state == "failed"
        assert "bearer token" in (row.reason or "")
        assert s.get(Watch, watch_id).history_from is None
        (ended,) = s.scalars(select(Notice)).all()
        assert "X failed" in ended.text


def test_unwatching_drops_a_pending_backfill_and_its_message_finds_nothing(
    sessions, worker_env, x_history
) -> None:
    _, (backfill_id,) = _new_watch(sessions)
    assert _claimed(sessions) == [backfill_id]
    with sessions.begin() as s:
        assert watch_store.remove_watch(s, "T1", "C1", "acme", utcnow())
    backfill_source(backfill_id)  # the message sent before the watch went
    with sessions() as s:
        assert s.scalars(select(Backfill)).all() == []
        assert s.scalars(select(Notice)).all() == []
    assert x_history.calls == []  # nothing asked of X, nothing billed


def test_watching_again_relinks_what_was_read_instead_of_paying_for_it_twice(
    sessions, worker_env, x_history
) -> None:
    """Unwatch and watch the topic again (here from another channel of the workspace): the
    history the removed watch held is linked at once, and X is asked only for what came after
    the removal, so the day's X reads do not grow by the seven days again."""
    _, (first,) = _new_watch(sessions)
    _claimed(sessions)
    backfill_source(first)
    with sessions() as s:
        read_once = x_usage.x_read_today(s, "T1", utcnow())
        assert read_once >= 166
    with sessions.begin() as s:
        assert watch_store.remove_watch(s, "T1", "C1", "acme", utcnow())
    removed_at = utcnow()
    searches_before = len(x_history.requests_to("/2/tweets/search/recent"))

    watch_id, (again,) = _new_watch(sessions, channel="C2")
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(WatchPost)) == read_once
        assert s.get(Backfill, again).read_from >= removed_at - timedelta(seconds=1)
    _claimed(sessions)
    backfill_source(again)
    with sessions() as s:
        row = s.get(Backfill, again)
        assert row.state == "done"
        assert x_usage.x_read_today(s, "T1", utcnow()) == read_once  # nothing new was posted
        watch = s.get(Watch, watch_id)
        assert watch.history_start <= utcnow() - timedelta(days=6, hours=23)
    (search,) = x_history.requests_to("/2/tweets/search/recent")[searches_before:]
    assert search.query["start_time"] >= (removed_at - timedelta(seconds=2)).strftime(
        "%Y-%m-%dT%H:%M:%S"
    )


def test_workspaces_take_turns_and_unstarted_backfills_are_not_sent_again(sessions) -> None:
    """One workspace's 30 new watches and another's one: the other's backfill is among the
    first sent. A sent backfill nobody has started (its worker is busy with the queue) is not
    sent again at the next ticks."""
    from sentibot.storage.backfills import claim_due

    now = utcnow()
    with sessions.begin() as s:
        for i in range(30):
            watch, _ = watch_store.upsert_watch(
                s, team_id="TBUSY", channel_id="C1", topic=f"busy{i}", sources=["hn"],
                every_s=900, model="vader", user_id="U1", now=now,
            )  # fmt: skip
            backfills.plan(s, watch, 86400, now)
        other, _ = watch_store.upsert_watch(
            s, team_id="TCALM", channel_id="C9", topic="calm", sources=["hn"],
            every_s=900, model="vader", user_id="U9", now=now,
        )  # fmt: skip
        (calm,) = backfills.plan(s, other, 86400, now)
        calm_id = calm.id
    with sessions.begin() as s:
        first = claim_due(s, now, limit=5)
    assert calm_id in first[:2]
    with sessions.begin() as s:
        again = claim_due(s, now + timedelta(minutes=30), limit=100)
    assert not set(first) & set(again)  # sent, not started: not sent twice
    assert len(again) == 26


def test_the_day_s_backfills_count_together_against_the_share(
    sessions, worker_env, x_history, monkeypatch
) -> None:
    """Each X backfill under the share alone, but not together: the second one asks (twelve
    watches each under it spent the workspace's whole day of X)."""
    monkeypatch.setenv("X_DAILY_POST_CAP", "1000")  # 168 posts are under 25%; 336 are not
    get_settings.cache_clear()
    _, (first,) = _new_watch(sessions)
    _claimed(sessions)
    backfill_source(first)
    _, (second,) = _new_watch(sessions, channel="C2")
    _claimed(sessions)
    backfill_source(second)
    with sessions() as s:
        assert s.get(Backfill, first).state == "done"
        assert s.get(Backfill, second).state == "confirm"
