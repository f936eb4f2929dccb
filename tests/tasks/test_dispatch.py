from datetime import timedelta

from sentibot.storage import jobs as job_store
from sentibot.storage.models import Job, JobStage, utcnow
from tasks.dispatch import MAX_ATTEMPTS, sweep
from tests.factories import make_job


def test_a_job_whose_message_was_lost_is_sent_again(sessions) -> None:
    sent: list[tuple[int, str]] = []
    with sessions.begin() as s:
        job_id = make_job(s).id
    with sessions.begin() as s:
        assert sweep(s, utcnow(), lambda j, st: sent.append((j, st))) == []  # too fresh
    with sessions.begin() as s:
        later = utcnow() + timedelta(seconds=61)
        assert sweep(s, later, lambda j, st: sent.append((j, st))) == [job_id]
    assert sent == [(job_id, JobStage.COLLECT)]
    with sessions() as s:
        assert s.get(Job, job_id).attempts == 1


def test_a_started_stage_is_resent_only_after_its_time_limit(sessions) -> None:
    sent: list[tuple[int, str]] = []
    with sessions.begin() as s:
        job = make_job(s)
        job_store.advance_job(s, job, stage=JobStage.SCORE)
        job_id = job.id
    with sessions.begin() as s:
        sweep(s, utcnow() + timedelta(seconds=120), lambda j, st: sent.append((j, st)))
    assert sent == []
    with sessions.begin() as s:
        sweep(s, utcnow() + timedelta(seconds=400), lambda j, st: sent.append((j, st)))
    assert sent == [(job_id, JobStage.SCORE)]


def test_a_job_that_keeps_failing_is_given_up_and_the_user_told(sessions) -> None:
    sent: list[tuple[int, str]] = []
    with sessions.begin() as s:
        job = make_job(s)
        job.attempts = MAX_ATTEMPTS
        job_id = job.id
    with sessions.begin() as s:
        sweep(s, utcnow() + timedelta(hours=1), lambda j, st: sent.append((j, st)))
    assert sent == [(job_id, JobStage.NOTIFY)]
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job.state == "failed"
        assert "gave up" in job.error


def test_a_dead_broker_stops_the_sweep_without_losing_jobs(sessions) -> None:
    with sessions.begin() as s:
        ids = [make_job(s, topic=f"t{i}").id for i in range(3)]

    def broken(job_id: int, stage: str) -> None:
        raise ConnectionError("broker down")

    with sessions.begin() as s:
        assert sweep(s, utcnow() + timedelta(seconds=61), broken) == []
    sent: list[int] = []
    with sessions.begin() as s:
        sweep(s, utcnow() + timedelta(seconds=200), lambda j, st: sent.append(j))
    assert sorted(sent) == ids
