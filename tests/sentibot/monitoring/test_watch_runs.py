"""Scheduled collection on a real database (SQLite and PostgreSQL): due times, cursors, source
health notices, the X daily cap and the sentiment processor, with an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from scoring import get_scorer
from sentibot.monitoring import watch_runs
from sentibot.query import Query, parse_query
from sentibot.sources import Batch, Post, SourceError, collect
from sentibot.storage import posts as post_store
from sentibot.storage import score_queue, workspaces, x_usage
from sentibot.storage import watches as watch_store
from sentibot.storage.models import Notice, Score, SourceState, Watch, WatchPost, utcnow
from sentibot.storage.models import Post as PostRow
from tasks.dispatch import tick
from tasks.watch import queue_notices

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def make_watch(s, team="T1", channel="C1", topic="acme", every=900, now=T0, sources=("hn",)):
    watch, _ = watch_store.upsert_watch(
        s,
        team_id=team,
        channel_id=channel,
        topic=topic,
        sources=sources,
        every_s=every,
        model="vader",
        user_id="U1",
        now=now,
    )
    return watch.id


class Source:
    """A scripted source: posts numbered from `start`, or a failure; records cursors asked."""

    def __init__(self, name: str = "hn") -> None:
        self.name = name
        self.next_posts: list[Post] = []
        self.fail: str | None = None
        self.cursors: list[str | None] = []
        self.limits: list[int] = []

    def add(self, *ids: int, text: str = "acme is great") -> None:
        self.next_posts = [
            Post(source=self.name, external_id=str(i), text=f"{text} {i}") for i in ids
        ]

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        self.cursors.append(cursor)
        self.limits.append(limit)
        if self.fail:
            raise SourceError(self.fail)
        posts, self.next_posts = self.next_posts[:limit], []
        newest = max((int(p.external_id) for p in posts), default=None)
        return Batch(posts, str(newest) if newest else None, billed=len(posts))


def run_watch(sessions, watch_id: int, source: Source, now: datetime, cap: int = 1000) -> list[int]:
    with sessions.begin() as s:
        run = watch_runs.begin_run(s, watch_id, limit=50, x_cap=cap, now=now)
    collectors = watch_runs.x_budgeted({source.name: source}, run.x_reserved, cap)
    collection = collect(parse_query(run.topic), collectors, 50, run.cursors)
    with sessions.begin() as s:
        return queue_notices(s, run, watch_runs.finish_run(s, run, collection, now), now)


def notices(sessions) -> list[Notice]:
    with sessions() as s:
        return list(s.scalars(select(Notice).order_by(Notice.id)))


# Due times -----------------------------------------------------------------------------------


def test_a_due_watch_is_claimed_once_even_by_two_dispatchers(sessions) -> None:
    with sessions.begin() as s:
        wid = make_watch(s)
    with sessions.begin() as s:
        assert watch_store.claim_due_watches(s, T0) == [wid]
    with sessions.begin() as s:  # a second Beat, or a restarted one, at the same moment
        assert watch_store.claim_due_watches(s, T0) == []
    with sessions.begin() as s:
        assert watch_store.claim_due_watches(s, T0 + timedelta(seconds=899)) == []
        assert watch_store.claim_due_watches(s, T0 + timedelta(seconds=900)) == [wid]


def test_an_outage_catches_up_with_one_run_not_a_burst(sessions) -> None:
    with sessions.begin() as s:
        wid = make_watch(s)
    back = T0 + timedelta(hours=10)  # 40 intervals missed
    with sessions.begin() as s:
        assert watch_store.claim_due_watches(s, back) == [wid]
    with sessions.begin() as s:
        assert watch_store.claim_due_watches(s, back + timedelta(seconds=30)) == []
        assert s.get(Watch, wid).next_run_at == back + timedelta(seconds=900)


def test_tick_sends_due_watches_and_nothing_twice(sessions) -> None:
    with sessions.begin() as s:
        wid = make_watch(s)
    sent: list[tuple] = []
    tick(sessions, T0, lambda name, *args: sent.append((name, *args)))
    tick(sessions, T0 + timedelta(seconds=15), lambda name, *args: sent.append((name, *args)))
    assert sent == [("sentibot.collect_watch", wid)]


def test_a_broker_outage_during_a_tick_loses_no_posts(sessions) -> None:
    with sessions.begin() as s:
        wid = make_watch(s)

    def down(name: str, *args: object) -> None:
        raise ConnectionError("broker down")

    sent = tick(sessions, T0, down)
    assert sent.watches == []
    # The run was skipped, but the cursor did not move: the next run asks from the same place.
    with sessions() as s:
        assert watch_store.source_states(s, wid) == {}


def test_watch_update_unwatch_and_team_scoping(sessions) -> None:
    with sessions.begin() as s:
        make_watch(s, every=3600)
        make_watch(s, team="T2")
    with sessions.begin() as s:
        wid = make_watch(s, every=600, now=T0 + timedelta(minutes=1))  # same topic: updated
        assert s.get(Watch, wid).interval_s == 600
        assert [w.topic for w in watch_store.channel_watches(s, "T1", "C1")] == ["acme"]
    with sessions.begin() as s:
        assert watch_store.remove_watch(s, "T1", "C1", "acme", utcnow()) is True
        assert watch_store.remove_watch(s, "T1", "C1", "acme", utcnow()) is False
        assert [w.team_id for w in s.scalars(select(Watch))] == ["T2"]  # T2 untouched


# Runs, cursors and health ---------------------------------------------------------------------


def test_runs_store_posts_once_link_them_and_advance_the_cursor(sessions) -> None:
    with sessions.begin() as s:
        wid = make_watch(s)
        other = make_watch(s, channel="C2")
    src = Source()
    src.add(1, 2, 3)
    run_watch(sessions, wid, src, T0)
    src.add(3, 4)  # 3 again, as a source may repeat itself
    run_watch(sessions, wid, src, T0 + timedelta(minutes=15))
    src.add(4)
    run_watch(sessions, other, src, T0 + timedelta(minutes=16))
    assert src.cursors == [None, "3", None]
    with sessions() as s:
        assert s.get(SourceState, (wid, "hn")).cursor == "4"
        links = s.execute(select(WatchPost.watch_id, func.count()).group_by(WatchPost.watch_id))
        assert dict(links.all()) == {wid: 4, other: 1}
        assert s.scalar(select(func.count()).select_from(PostRow)) == 4  # post 4 stored once


def test_a_failing_source_is_announced_once_keeps_its_cursor_and_recovery_is_announced(
    sessions,
) -> None:
    with sessions.begin() as s:
        wid = make_watch(s, topic="acme <!channel>")
    src = Source()
    src.add(1, 2)
    run_watch(sessions, wid, src, T0)
    src.fail = "Hacker News server error (503)"
    for minutes in (15, 30, 45):
        run_watch(sessions, wid, src, T0 + timedelta(minutes=minutes))
    assert src.cursors[-1] == "2"  # the failed runs never moved it
    (failing,) = notices(sessions)
    assert failing.kind == "source_failing"
    assert "Hacker News" in failing.text
    assert "503" in failing.text
    assert "<!channel>" not in failing.text  # the topic is escaped
    src.fail = None
    src.add(3)
    run_watch(sessions, wid, src, T0 + timedelta(minutes=60))
    kinds = [n.kind for n in notices(sessions)]
    assert kinds == ["source_failing", "source_recovered"]
    with sessions() as s:
        state = s.get(SourceState, (wid, "hn"))
        assert (state.health, state.cursor, state.posts_total) == ("ok", "3", 3)


def test_a_source_that_goes_silent_is_announced_once_then_its_return(sessions) -> None:
    with sessions.begin() as s:
        wid = make_watch(s)
    src = Source()
    src.add(1)
    run_watch(sessions, wid, src, T0)
    run_watch(sessions, wid, src, T0 + timedelta(hours=23))  # quiet, but not for long
    assert notices(sessions) == []
    run_watch(sessions, wid, src, T0 + timedelta(hours=25))
    run_watch(sessions, wid, src, T0 + timedelta(hours=26))
    assert [n.kind for n in notices(sessions)] == ["source_silent"]
    src.add(2)
    run_watch(sessions, wid, src, T0 + timedelta(hours=27))
    assert [n.kind for n in notices(sessions)] == ["source_silent", "source_recovered"]


def test_a_source_that_never_delivered_is_not_called_silent(sessions) -> None:
    with sessions.begin() as s:
        wid = make_watch(s)
    for hours in (0, 30, 60):
        run_watch(sessions, wid, Source(), T0 + timedelta(hours=hours))
    assert notices(sessions) == []


# X spend --------------------------------------------------------------------------------------


def test_x_reads_stop_at_the_daily_cap_per_workspace(sessions) -> None:
    with sessions.begin() as s:
        wid = make_watch(s, sources=("x",))
        other = make_watch(s, team="T2", sources=("x",))
    x = Source("x")
    x.add(*range(1, 31))
    run_watch(sessions, wid, x, T0, cap=40)
    x.add(*range(31, 61))
    run_watch(sessions, wid, x, T0 + timedelta(minutes=15), cap=40)
    assert x.limits == [40, 10]  # the second run could only read what was left
    with sessions() as s:
        assert x_usage.x_read_today(s, "T1", T0) == 40
    run_watch(sessions, wid, x, T0 + timedelta(minutes=30), cap=40)
    assert len(x.limits) == 2  # at the cap: X is not asked at all
    with sessions() as s:
        assert "daily X read cap" in s.get(SourceState, (wid, "x")).last_error
    x.add(100)
    run_watch(sessions, other, x, T0 + timedelta(minutes=31), cap=40)  # T2 has its own budget
    assert len(x.limits) == 3
    x.add(101)
    run_watch(sessions, wid, x, T0 + timedelta(days=1), cap=40)  # a new UTC day
    assert x.limits[-1] == 40


def test_x_reservations_never_overshoot_the_cap(sessions) -> None:
    with sessions.begin() as s:
        workspaces.ensure_workspace(s, "T1")
    grants = []
    for _ in range(5):
        with sessions.begin() as s:
            grants.append(x_usage.reserve_x_reads(s, "T1", 30, 100, T0))
    assert grants == [30, 30, 30, 10, 0]
    with sessions.begin() as s:
        x_usage.settle_x_reads(s, "T1", 30, 12, T0)  # X billed only 12 of a reservation
        assert x_usage.x_read_today(s, "T1", T0) == 82


# The sentiment processor ----------------------------------------------------------------------


def test_processor_claims_each_unscored_post_once_until_scored(sessions) -> None:
    with sessions.begin() as s:
        wid = make_watch(s)
        other = make_watch(s, channel="C2")
    src = Source()
    src.add(*range(1, 8))
    run_watch(sessions, wid, src, T0)
    src.add(5, 6, 7, 8)
    run_watch(sessions, other, src, T0)
    with sessions.begin() as s:
        batches = score_queue.claim_unscored(
            s, T0, timedelta(minutes=5), batch=3, max_batches=10, max_attempts=5
        )
    key = "vader|topic:acme"  # VADER, reading the posts with the topic's words masked
    assert [(m, len(ids)) for m, ids in batches] == [(key, 3), (key, 3), (key, 2)]
    assert sorted(i for _, ids in batches for i in ids) == sorted(
        set(i for _, ids in batches for i in ids)
    )
    with sessions.begin() as s:  # the next tick: all requested, nothing to send
        assert (
            score_queue.claim_unscored(
                s, T0 + timedelta(seconds=15), timedelta(minutes=5), 3, 10, 5
            )
            == []
        )
    model, ids = batches[0]
    with sessions.begin() as s:
        rows = score_queue.posts_to_score(s, model, ids)
        post_store.store_scores(
            s,
            model,
            list(
                zip(
                    [r[0] for r in rows], get_scorer(model).score([r[1] for r in rows]), strict=True
                )
            ),
        )
        score_queue.finish_score_requests(s, model, ids)
    with sessions.begin() as s:  # the other batches' messages were lost: re-sent after 5 min
        again = score_queue.claim_unscored(
            s, T0 + timedelta(minutes=6), timedelta(minutes=5), 3, 10, 5
        )
    assert sorted(i for _, b in again for i in b) == sorted(i for _, b in batches[1:] for i in b)
    later = T0 + timedelta(minutes=6)
    for _ in range(3):  # scoring keeps failing: sent 5 times in all, then left alone
        later += timedelta(minutes=6)
        with sessions.begin() as s:
            assert score_queue.claim_unscored(s, later, timedelta(minutes=5), 3, 10, 5)
    with sessions.begin() as s:
        assert (
            score_queue.claim_unscored(
                s, later + timedelta(hours=1), timedelta(minutes=5), 3, 10, 5
            )
            == []
        )
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Score)) == 3
        assert score_queue.unscored_count(s) == 5


def test_a_live_runs_posts_are_scored_ahead_of_a_backlog(sessions) -> None:
    with sessions.begin() as s:
        wid = make_watch(s)
    src = Source()
    src.add(*range(1, 31))  # a backfill's history, stored first
    run_watch(sessions, wid, src, T0)
    src.add(31, 32)  # then a live run
    run_watch(sessions, wid, src, T0 + timedelta(minutes=15))
    with sessions.begin() as s:
        batches = score_queue.claim_unscored(
            s, T0, timedelta(minutes=5), batch=4, max_batches=10, max_attempts=5
        )
        rows = s.scalars(select(PostRow).where(PostRow.id.in_(batches[0][1])))
        first = {p.external_id for p in rows}
    assert {"31", "32"} <= first


def test_links_are_written_in_chunks_of_bounded_size(sessions, monkeypatch) -> None:
    # PostgreSQL binds at most 65,535 parameters per statement; bench/ingest.py runs 100,000
    # posts through one run. Here the chunk is made small to exercise the same path quickly.
    monkeypatch.setattr(watch_store, "_CHUNK", 7)
    with sessions.begin() as s:
        wid = make_watch(s)
    src = Source()
    src.add(*range(1, 31))
    run_watch(sessions, wid, src, T0)
    src.add(*range(20, 41))  # overlaps the first run across chunk boundaries
    run_watch(sessions, wid, src, T0 + timedelta(minutes=15))
    with sessions() as s:
        assert watch_store.watch_post_counts(s, [wid], T0 - timedelta(days=1)) == {wid: 40}


def test_a_busy_workspace_never_delays_a_quiet_ones_watch(sessions) -> None:
    with sessions.begin() as s:
        for i in range(300):  # due first, one minute apart
            make_watch(s, team="TBUSY", topic=f"t{i}", every=60, now=T0 - timedelta(minutes=10))
        quiet = make_watch(s, team="TQUIET", topic="acme", every=60, now=T0)
    with sessions.begin() as s:  # one tick claims 100: the quiet workspace's watch is among them
        claimed = watch_store.claim_due_watches(s, T0 + timedelta(seconds=1), limit=100)
    assert len(claimed) == 100
    assert quiet in claimed


def test_a_second_delivery_of_a_run_reads_nothing_while_the_first_is_out(sessions) -> None:
    """A broker that restored a message it had already handed out (a restart with the task in
    flight) delivers the run twice; the second reads nothing (X billed it twice). Once the
    first has finished, or its worker has been silent past READ_CLAIM_STALE, a run reads."""
    source = Source()
    with sessions.begin() as s:
        watch_id = make_watch(s)
    with sessions.begin() as s:
        first = watch_runs.begin_run(s, watch_id, limit=50, x_cap=1000, now=T0, source="hn")
    assert first is not None
    with sessions.begin() as s:
        again = watch_runs.begin_run(s, watch_id, limit=50, x_cap=1000, now=T0, source="hn")
    assert again is None
    source.add(1, 2)
    collection = collect(parse_query(first.topic), {"hn": source}, 50, first.cursors)
    with sessions.begin() as s:
        watch_runs.finish_run(s, first, collection, T0)
    later = T0 + timedelta(minutes=1)
    with sessions.begin() as s:
        assert watch_runs.begin_run(s, watch_id, limit=50, x_cap=1000, now=later, source="hn")
    lost = later + watch_runs.READ_CLAIM_STALE + timedelta(seconds=1)
    with sessions.begin() as s:  # the run begun `later` never finished: its worker was lost
        assert watch_runs.begin_run(s, watch_id, limit=50, x_cap=1000, now=lost, source="hn")
