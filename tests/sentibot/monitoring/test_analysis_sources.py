"""An analysis's sources stored one task each: every part merged, the last one in moves on."""

from __future__ import annotations

import threading

from sentibot.monitoring import analysis
from sentibot.sources import Collection, Post, SourceReport
from sentibot.storage.models import Job
from tests.factories import make_job


def _part(source: str, n: int) -> Collection:
    posts = [Post(source, f"{source}{i}", f"acme from {source} {i}") for i in range(n)]
    return Collection(posts=posts, reports={source: SourceReport("ok", count=n)})


def test_sources_reported_at_once_are_all_kept_and_move_on_once(sessions) -> None:
    sources = ["x", "reddit", "hn", "rss"]
    with sessions.begin() as s:
        job_id = make_job(s, sources=sources).id
    outcomes = []
    lock = threading.Lock()

    def report(source: str) -> None:
        with sessions.begin() as s:
            stored = analysis.store_source(s, job_id, source, _part(source, 3))
        with lock:
            outcomes.append(stored)

    threads = [threading.Thread(target=report, args=(name,)) for name in sources]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for o in outcomes if o is not None and o.complete) == 1  # one moves it on
    with sessions() as s:
        job = s.get(Job, job_id)
        assert sorted(job.source_reports) == sorted(sources)  # no part lost to another
        assert job.stage == "score"
    with sessions.begin() as s:  # a duplicate task for a source changes nothing
        assert analysis.store_source(s, job_id, "x", _part("x", 5)) is None
    complete = next(o for o in outcomes if o is not None and o.complete)
    assert complete.posts == 12
