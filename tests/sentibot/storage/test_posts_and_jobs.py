from datetime import UTC, datetime

from sqlalchemy import func, select

from sentibot.sentiment import Sentiment
from sentibot.sources import Post
from sentibot.storage import jobs as job_store
from sentibot.storage import posts as post_store
from sentibot.storage.models import Post as PostRow
from sentibot.storage.models import Score
from tests.factories import make_job


def _post(i: int, source: str = "x", text: str = "hello") -> Post:
    return Post(source, str(i), f"{text} {i}", "ann", None, datetime(2026, 1, 1, tzinfo=UTC), i)


def test_a_post_is_stored_once_per_source_and_external_id(sessions) -> None:
    with sessions.begin() as s:
        first = post_store.store_posts(s, [_post(1), _post(2), _post(2)])
    with sessions.begin() as s:
        again = post_store.store_posts(s, [_post(2), _post(3), _post(1, source="reddit")])
        count = s.scalar(select(func.count()).select_from(PostRow))
    assert len(first) == 2
    assert first[1] in again
    assert count == 4  # x:1, x:2, x:3, reddit:1


def test_a_score_is_stored_once_per_post_and_model(sessions) -> None:
    s1 = Sentiment("positive", 0.5, 0.0, 0.5, 0.5)
    s2 = Sentiment("negative", -0.5, 0.5, 0.5, 0.0)
    with sessions.begin() as s:
        (pid,) = post_store.store_posts(s, [_post(1)])
        post_store.store_scores(s, "vader", [(pid, s1)])
        post_store.store_scores(s, "vader", [(pid, s2)])
        post_store.store_scores(s, "other", [(pid, s2)])
        rows = s.execute(select(Score.model, Score.label).order_by(Score.model)).all()
    assert [tuple(r) for r in rows] == [("other", "negative"), ("vader", "positive")]


def test_unscored_posts_shrink_as_they_are_scored(sessions) -> None:
    with sessions.begin() as s:
        job = make_job(s)
        ids = post_store.store_posts(s, [_post(i) for i in range(5)])
        job_store.link_job_posts(s, job.id, ids)
        job_store.link_job_posts(s, job.id, ids)  # idempotent
        assert job.model == "vader|topic:acme"  # scored for its topic (report/masking.py)
        todo = job_store.unscored_job_posts(s, job.id, job.model, limit=3)
        assert len(todo) == 3
        neutral = Sentiment("neutral", 0.0, 0.0, 1.0, 0.0)
        post_store.store_scores(s, job.model, [(pid, neutral) for pid, _, _ in todo])
        assert len(job_store.unscored_job_posts(s, job.id, job.model)) == 2
        assert len(job_store.unscored_job_posts(s, job.id, "other")) == 5


def test_scored_posts_are_scoped_to_the_jobs_workspace(sessions) -> None:
    neutral = Sentiment("neutral", 0.0, 0.0, 1.0, 0.0)
    with sessions.begin() as s:
        mine, theirs = make_job(s, "T1"), make_job(s, "T2")
        shared = post_store.store_posts(s, [_post(1)])
        only_theirs = post_store.store_posts(s, [_post(2)])
        job_store.link_job_posts(s, mine.id, shared)
        job_store.link_job_posts(s, theirs.id, shared + only_theirs)
        post_store.store_scores(s, mine.model, [(p, neutral) for p in shared + only_theirs])
        assert [p.text for p in job_store.scored_job_posts(s, mine)] == ["hello 1"]
        assert len(job_store.scored_job_posts(s, theirs)) == 2
        assert [j.id for j in job_store.jobs_for_team(s, "T1")] == [mine.id]


def test_timestamps_come_back_timezone_aware(sessions) -> None:
    with sessions.begin() as s:
        job_id = make_job(s).id
    with sessions() as s:
        job = job_store.get_job(s, job_id)
        assert job.created_at.tzinfo is not None


def test_a_database_error_never_carries_the_values_bound_to_it(sessions) -> None:
    import pytest
    from sqlalchemy.exc import IntegrityError

    from sentibot.storage.models import Job

    secret = "https://hooks.slack.com/commands/T1/secret-response-url"
    with sessions() as s:
        s.add(Job(team_id="T-none", topic="acme", channel_id="C1", response_url=secret))
        with pytest.raises(IntegrityError) as failed:
            s.flush()  # no such workspace: a foreign key error
    assert secret not in str(failed.value)
    assert "hidden due to hide_parameters" in str(failed.value)
