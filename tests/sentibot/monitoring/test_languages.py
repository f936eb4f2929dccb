"""Posts in languages the model does not read are counted, shown, and left out of the mood."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.views.summary import render_summary
from collectors.boundary import clean_post
from scoring.base import get_scorer
from sentibot.monitoring import analysis
from sentibot.sentiment import reads
from sentibot.sources import Post
from sentibot.storage import jobs as job_store
from sentibot.storage import posts as post_store
from tests.factories import make_job

NOW = datetime.now(UTC)
TEXTS = [
    "I love the new acme phone, it is fantastic and fast",
    "acme support was terrible, I waited three days for nothing",
    "The acme battery lasts all day, really impressed with it",
    "アクメの新しい電話はとても素晴らしいです。大好きです",
    "アクメのサポートは最悪でした。三日間も待たされました",
    "Eu adoro o novo telefone da acme, é ótimo e muito rápido",
]


def _posts() -> list[Post]:
    raw = [Post("x", f"p{i}", text, author=f"a{i}", created_at=NOW) for i, text in enumerate(TEXTS)]
    return [p for p in (clean_post(p, NOW) for p in raw) if p is not None]


@pytest.mark.parametrize("model", ["vader", "transformer"])
def test_three_languages_reported_and_only_english_scored(sessions, model: str) -> None:
    with sessions.begin() as s:
        job = make_job(s, topic="acme", sources=["x"], model=model)
        job_store.link_job_posts(s, job.id, post_store.store_posts(s, _posts()))
        analysis.score_job_posts(s, job, get_scorer(model))
        report = analysis.job_report(s, job)
    assert report.languages == {"en": 3, "ja": 2, "pt": 1}
    assert report.unscored == 3
    assert report.summary.count == 3  # the mood is the English posts' only
    assert report.summary.overall.neutral_share < 1 / 3  # never scored as neutral
    doc = analysis.report_as_json(report)
    assert doc["languages"] == {"en": 3, "ja": 2, "pt": 1}
    assert doc["unscored"] == 3
    _, blocks = render_summary(
        report.summary, report.sources, model, languages=report.languages, unscored=3
    )
    mix = f"*Languages*: en 50% · ja 33% · pt 17% · 3 posts in languages {model} does not read"
    assert mix in str(blocks)


def test_the_english_models_read_english_only() -> None:
    assert reads("transformer", "en")
    assert not reads("transformer", "ja")
    assert not reads("vader", "pt")
    assert reads("vader", None)  # a post whose language nobody knows is tried
    assert reads("hf:/models/multilingual", "ja")


def test_a_language_routed_to_another_model_is_scored_by_it(sessions) -> None:
    from scoring.base import language_routes
    from sentibot.sentiment import UnknownModel

    routes = language_routes("ja=vader")  # stands in for a local multilingual hf: model
    with sessions.begin() as s:
        job = make_job(s, topic="acme", sources=["x"], model="vader")
        job_store.link_job_posts(s, job.id, post_store.store_posts(s, _posts()))
        analysis.score_job_posts(s, job, get_scorer("vader"), routes=routes)
        report = analysis.job_report(s, job)
    assert report.unscored == 1  # only the Portuguese post
    assert report.summary.count == 5
    with pytest.raises(UnknownModel, match="SENTIMENT_LANGUAGE_MODELS"):
        language_routes("ja")
