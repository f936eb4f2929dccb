"""News search: the query in news syntax through the feed collector, no feed URLs needed."""

from __future__ import annotations

from collectors.news import _build
from devtools.corpus import CorpusPost, StaticCorpus
from devtools.news_standin import NewsStandIn
from sentibot.config.settings import Settings
from sentibot.query import parse_query
from tests.collectors.conftest import T0


def test_the_whole_query_is_searched_and_reported_as_news(retry) -> None:
    posts = [
        CorpusPost(id="1", text="Acme phone recall announced", created_at=T0),
        CorpusPost(id="2", text="acmecorp quarterly results", created_at=T0),
        CorpusPost(id="3", text="acme phone giveaway", created_at=T0),
    ]
    with NewsStandIn(StaticCorpus(posts)) as news:
        settings = Settings(_env_file=None, news_search_url=news.search_url)
        batch = _build(settings, retry).collect(
            parse_query('"acme phone" OR acmecorp -giveaway'), 10
        )
        (call,) = news.requests_to("/rss/search")
    assert call.query["q"] == '("acme phone" OR acmecorp) -giveaway'
    assert call.query["hl"] == "en-US"
    assert sorted(p.text for p in batch.posts) == [
        "Acme phone recall announced",
        "acmecorp quarterly results",
    ]
    assert {p.source for p in batch.posts} == {"news"}
