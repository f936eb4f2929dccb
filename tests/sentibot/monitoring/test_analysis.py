"""The analysis steps as plain functions on a real database, no broker."""

from scoring import get_scorer
from sentibot.monitoring import analysis
from sentibot.sources import Collection, Post, SourceReport
from tests.factories import make_job

POSTS = [
    Post("x", "1", "I love acme, wonderful support!"),
    Post("x", "2", "acme is terrible, it broke again"),
    Post("reddit", "a", "acme opens at 9"),
    Post("x", "1", "I love acme, wonderful support!"),  # a duplicate across pages
]


def test_collect_score_and_report_a_job(sessions) -> None:
    reports = {"x": SourceReport("ok", 3), "reddit": SourceReport("ok", 1)}
    with sessions.begin() as s:
        job = make_job(s, sources=["x", "reddit"])
        for source in ("x", "reddit"):  # one part per source, as the collect tasks store them
            part = Collection([p for p in POSTS if p.source == source], {source: reports[source]})
            stored = analysis.store_source(s, job.id, source, part)
        assert stored.complete
        assert stored.posts == 3
        assert analysis.score_job_posts(s, job, get_scorer("vader"), batch=2) == 3
        assert analysis.score_job_posts(s, job, get_scorer("vader")) == 0  # nothing twice
        report = analysis.job_report(s, job)
    summary = report.summary
    assert summary.count == 3
    assert summary.by_source["x"].count == 2
    # Labels as counted; the shares are estimates corrected for VADER's errors (too few posts
    # here to say much: the interval spans nearly everything).
    assert summary.by_source["x"].shares.counted == (0.5, 0.0, 0.5)
    assert summary.by_source["reddit"].shares.counted == (0.0, 1.0, 0.0)
    assert not summary.overall.shares.enough
    assert report.sources == reports
    doc = analysis.report_as_json(report)
    assert doc["by_source"] == {"reddit": 1, "x": 2}
    assert doc["sources"]["x"]["status"] == "ok"


def test_the_report_covers_its_window_and_compares_with_the_one_before(sessions) -> None:
    from datetime import timedelta

    from bot.views.summary import render_summary

    with sessions.begin() as s:
        job = make_job(s, sources=["x"], window_s=6 * 3600)
        now = job.created_at
        posts = [
            Post("x", "n1", "acme is wonderful", created_at=now - timedelta(hours=1)),
            Post("x", "n2", "acme is great", created_at=now - timedelta(hours=5)),
            Post("x", "n3", "acme is awful", created_at=now - timedelta(hours=2)),
            Post("x", "o1", "acme is terrible", created_at=now - timedelta(hours=7)),
            Post("x", "o2", "acme is horrible", created_at=now - timedelta(hours=11)),
            Post("x", "z1", "acme ancient", created_at=now - timedelta(hours=13)),  # neither
        ]
        analysis.store_source(s, job.id, "x", Collection(posts, {"x": SourceReport("ok", 6)}))
        analysis.score_job_posts(s, job, get_scorer("vader"))
        report = analysis.job_report(s, job)
    assert report.summary.count == 3
    assert report.previous is not None
    assert report.previous.count == 2
    assert report.previous.negative_share == 1.0
    assert len(report.timeline) == 3
    _, blocks = render_summary(
        report.summary,
        report.sources,
        posts=report.posts,
        previous=report.previous,
        window_s=report.window_s,
    )
    body = str(blocks)
    # net now: 2 positive, 1 negative of 3 = +33; before: -100: up 133 points; volume +50%.
    assert "vs the 6h before: net ▲ +133 pts (was -100) · volume +50% (2 posts then)" in body
    assert "of the last 6h" in body
