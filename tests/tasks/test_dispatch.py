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


def test_a_stage_whose_worker_went_silent_is_resent_in_seconds(sessions) -> None:
    sent: list[tuple[int, str]] = []
    now = utcnow()
    with sessions.begin() as s:
        job = make_job(s)
        job_store.advance_job(s, job, stage=JobStage.COLLECT)
        job_id = job.id
        job_store.beat(s, job_id, "host 1", now)
    with sessions.begin() as s:  # beating: left alone, however long the stage takes
        job_store.beat(s, job_id, "host 1", now + timedelta(seconds=290))
        sweep(s, now + timedelta(seconds=300), lambda j, st: sent.append((j, st)))
    assert sent == []
    with sessions.begin() as s:  # silent for longer than SILENT_AFTER: its worker is gone
        sweep(s, now + timedelta(seconds=321), lambda j, st: sent.append((j, st)))
    assert sent == [(job_id, JobStage.COLLECT)]
    with sessions() as s:
        job = s.get(Job, job_id)
        assert (job.worker, job.heartbeat_at, job.attempts) == (None, None, 1)
    with sessions.begin() as s:  # re-sent once, not on every tick while the message waits
        sweep(s, now + timedelta(seconds=340), lambda j, st: sent.append((j, st)))
    assert len(sent) == 1


def test_a_finished_stage_lets_go_of_the_job(sessions) -> None:
    with sessions.begin() as s:
        job = make_job(s)
        job_store.beat(s, job.id, "host 1", utcnow())
        job_store.release(s, job.id, "host 2")  # someone else's release changes nothing
        job_id = job.id
    with sessions() as s:
        assert s.get(Job, job_id).worker == "host 1"
    with sessions.begin() as s:
        job_store.release(s, job_id, "host 1")
    with sessions() as s:
        assert s.get(Job, job_id).heartbeat_at is None
