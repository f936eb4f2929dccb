"""A report counts each message once and says how many copies it merged and how many authors
wrote: 200 copies of one angry post do not make the mood negative."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.views.summary import render_summary
from scoring.base import get_scorer
from sentibot.monitoring import analysis
from sentibot.sources import Post
from sentibot.storage import jobs as job_store
from sentibot.storage import posts as post_store
from tests.factories import make_job

NOW = datetime.now(UTC)
ANGRY = "acme is terrible, they lost my order and I hate their useless support, worst company ever"


def test_200_copies_count_once_in_the_mood_and_the_report_says_so(sessions) -> None:
    posts = [Post("x", f"c{i}", f"{ANGRY} https://t.co/{i}", author=f"bot{i}", created_at=NOW)
             for i in range(200)]  # fmt: skip
    happy = [
        "I love my acme phone, the battery is great",
        "acme support fixed my screen in a day, brilliant",
        "really happy with the acme update, so smooth",
    ]
    posts += [
        Post("reddit", f"h{i}", t, author=f"fan{i}", created_at=NOW) for i, t in enumerate(happy)
    ]
    with sessions.begin() as s:
        job = make_job(s, topic="acme", sources=["x", "reddit"], model="vader")
        job_store.link_job_posts(s, job.id, post_store.store_posts(s, posts))
        analysis.score_job_posts(s, job, get_scorer("vader"))
        report = analysis.job_report(s, job)
    assert report.summary.count == 203
    assert report.messages == 4
    assert report.duplicates_merged == 199
    assert report.unique_authors == 203
    assert report.summary.overall.shares.counted[0] == 0.25  # one message of four
    doc = analysis.report_as_json(report)
    assert (doc["duplicates_merged"], doc["unique_authors"], doc["messages"]) == (199, 203, 4)
    _, blocks = render_summary(
        report.summary, report.sources, "vader", unique_authors=203, duplicates_merged=199
    )
    assert "*203 posts* from 203 authors · 199 copies counted once" in str(blocks)


def test_a_report_names_its_themes_in_slack_and_in_json(sessions) -> None:
    from scoring.embed import embed
    from tests.sentibot.report.test_themes import BATTERY, CHECKOUT, SHIPPING

    texts = BATTERY + SHIPPING + CHECKOUT
    posts = [Post("x", f"t{i}", t, author=f"a{i}", created_at=NOW) for i, t in enumerate(texts)]
    with sessions.begin() as s:
        job = make_job(s, topic="acme", sources=["x"], model="vader")
        job_store.link_job_posts(s, job.id, post_store.store_posts(s, posts))
        analysis.score_job_posts(s, job, get_scorer("vader"))
        report = analysis.job_report(s, job, embed)
    labels = {t.label for t in report.themes}
    assert "checkout / error" in labels
    doc = analysis.report_as_json(report)
    (checkout,) = [t for t in doc["themes"] if t["label"] == "checkout / error"]
    assert checkout["count"] == 16
    assert checkout["negative_share"] > 0.5
    assert checkout["change"] is None  # no window before this job's posts
    _, blocks = render_summary(report.summary, report.sources, "vader", themes=report.themes)
    assert "*Themes*" in str(blocks)
    assert "*checkout / error* · 16 posts" in str(blocks)
