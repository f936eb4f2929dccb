"""How many database transactions one analysis costs, run as a worker runs its tasks: each
one is a BEGIN and a COMMIT on the connection pool, under load the bottleneck before the CPU."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import Engine, event

from devtools.corpus import CorpusPost, StaticCorpus
from devtools.hn_standin import HackerNewsStandIn
from devtools.slack_standin import SlackStandIn
from devtools.twitter_standin import TwitterStandIn
from sentibot.storage.models import Job, utcnow
from tasks import analyze
from tests.factories import make_job
from tests.tasks.environment import worker_env, worker_settings

BUDGET = 15


def test_a_two_source_analysis_takes_at_most_15_transactions(
    sessions, database_url, redis_url, broker_prefix, monkeypatch
) -> None:
    """Collect (fan out), two sources, score and notify, each task called as the worker calls
    it: each stage beats and lets go inside its own transactions, and edits of a message whose
    ts is known skip the posting ledger (an edit twice is an edit once). It took 30."""
    now = utcnow()
    corpus = StaticCorpus(
        [
            CorpusPost(id=str(i), text=f"acme is {'great' if i % 2 else 'awful'} {i}",
                       author=f"u{i}", created_at=now - timedelta(minutes=i))
            for i in range(30)
        ]
    )  # fmt: skip
    with (
        SlackStandIn() as slack,
        HackerNewsStandIn(corpus) as hn,
        TwitterStandIn(corpus) as x,
        worker_settings(
            monkeypatch,
            {
                **worker_env(slack, database_url, redis_url, broker_prefix),
                "HN_API_URL": hn.url,
                "TWITTER_API_URL": x.url,
                "TWITTER_BEARER_TOKEN": x.bearer_token,
            },
        ),
    ):
        with sessions.begin() as s:
            job = make_job(s, team="T0STANDIN", sources=["hn", "x"], channel_id="CTX")
            job_id = job.id
        sent: list[tuple] = []
        monkeypatch.setattr(
            analyze.app, "send_task", lambda name, args, **_: sent.append((name, *args))
        )
        monkeypatch.setattr(analyze, "enqueue_stage", lambda j, stage: sent.append((stage, j)))
        begun: list[int] = []

        def count(_connection) -> None:
            # A stage's periodic heartbeat (every 5 s, from its own thread) counts time, not
            # work: a slow machine adds beats, so they are not counted here.
            if not threading.current_thread().name.startswith("heartbeat-"):
                begun.append(1)

        event.listen(Engine, "begin", count)
        try:
            analyze.collect(job_id)
            for name, *args in list(sent):
                if name == "sentibot.collect_source":
                    analyze.collect_source(*args)
            analyze.score(job_id)
            analyze.notify(job_id)
        finally:
            event.remove(Engine, "begin", count)
        with sessions() as s:
            assert s.get(Job, job_id).state == "done"
        (report,) = slack.messages_in("CTX")
        assert "acme" in report.text
        assert len(begun) <= BUDGET, f"{len(begun)} transactions"
