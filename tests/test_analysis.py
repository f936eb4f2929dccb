"""The analysis steps as plain functions on a real database, no broker."""

from sentibot import analysis
from sentibot.collectors.base import Post
from sentibot.collectors.registry import SourceReport
from sentibot.scoring import get_scorer
from tests.factories import make_job

POSTS = [
    Post("x", "1", "I love acme, wonderful support!"),
    Post("x", "2", "acme is terrible, it broke again"),
    Post("reddit", "a", "acme opens at 9"),
    Post("x", "1", "I love acme, wonderful support!"),  # a duplicate across pages
]


def test_collect_score_and_report_a_job(sessions) -> None:  # noqa: ANN001
    reports = {"x": SourceReport("ok", 3), "reddit": SourceReport("ok", 1)}
    with sessions.begin() as s:
        job = make_job(s, sources=["x", "reddit"])
        assert analysis.store_collection(s, job, POSTS, reports) == 3
        assert analysis.score_job_posts(s, job, get_scorer("vader"), batch=2) == 3
        assert analysis.score_job_posts(s, job, get_scorer("vader")) == 0  # nothing twice
        report = analysis.job_report(s, job)
    summary = report.summary
    assert summary.count == 3
    assert summary.by_source["x"].count == 2
    assert summary.by_source["x"].positive_share == 0.5
    assert summary.by_source["x"].negative_share == 0.5
    assert summary.by_source["reddit"].neutral_share == 1.0
    assert report.sources == reports
    doc = analysis.report_as_json(report)
    assert doc["by_source"] == {"reddit": 1, "x": 2}
    assert doc["sources"]["x"]["status"] == "ok"
