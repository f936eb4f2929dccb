"""Hacker News through the Algolia search stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from collectors.hackernews import HackerNewsCollector
from devtools.corpus import CorpusPost, StaticCorpus
from devtools.hn_standin import HackerNewsStandIn
from sentibot.query import parse_query
from sentibot.sources import RateLimited, SourceBadResponse, SourceUnavailable
from tests.collectors.conftest import T0, corpus


@pytest.fixture
def hn() -> Iterator[HackerNewsStandIn]:
    posts = corpus(250).posts + [
        CorpusPost(id="c1", text="I think acme is <b>overrated</b> &amp; slow", created_at=T0),
        CorpusPost(id="c2", text="acmecorp hiring", created_at=T0 + timedelta(hours=9)),
    ]
    with HackerNewsStandIn(StaticCorpus(posts)) as standin:
        yield standin


def test_pages_through_stories_and_comments(hn, retry) -> None:
    batch = HackerNewsCollector(hn.url, retry).collect(parse_query("acme"), 500)
    assert len(batch.posts) == 251  # 250 stories and the comment; "acmecorp" is another word
    pages = hn.requests_to("/api/v1/search_by_date")
    assert [r.query["page"] for r in pages] == ["0", "1", "2"]
    assert pages[0].query["tags"] == "(story,comment)"
    comment = next(p for p in batch.posts if p.external_id == "c1")
    assert comment.text == "I think acme is overrated & slow"  # HTML stripped and unescaped
    assert comment.url == "https://news.ycombinator.com/item?id=c1"
    newest = batch.posts[0]
    assert newest.external_id == "1249"
    assert batch.cursor == str(int(newest.created_at.timestamp()))


def test_cursor_asks_only_for_newer_items(hn, retry) -> None:
    c = HackerNewsCollector(hn.url, retry)
    first = c.collect(parse_query("acme"), 500)
    again = c.collect(parse_query("acme"), 500, first.cursor)
    assert again.posts == []
    assert hn.requests_to("/api/v1")[-1].query["numericFilters"] == f"created_at_i>{first.cursor}"


def test_or_queries_run_one_search_per_alternative(hn, retry) -> None:
    batch = HackerNewsCollector(hn.url, retry).collect(parse_query("acme OR acmecorp"), 1000)
    assert {r.query["query"] for r in hn.requests_to("/api/v1")} == {"acme", "acmecorp"}
    assert len(batch.posts) == 252


def test_429_waits_then_continues(hn, retry, sleeps) -> None:
    hn.fail_next("/api/v1", 429, headers={"retry-after": "3"}, body={"message": "slow down"})
    assert len(HackerNewsCollector(hn.url, retry).collect(parse_query("acme"), 10).posts) == 10
    assert sleeps == [3.0]


def test_429_past_the_retries_and_5xx_fail_clearly(hn, retry) -> None:
    hn.fail_next("/api/v1", 429, body={"message": "slow down"}, times=5)
    with pytest.raises(RateLimited):
        HackerNewsCollector(hn.url, retry).collect(parse_query("acme"), 10)
    hn.fail_next("/api/v1", 502, body={"message": "bad gateway"}, times=5)
    with pytest.raises(SourceUnavailable, match="502"):
        HackerNewsCollector(hn.url, retry).collect(parse_query("acme"), 10)


def test_malformed_body_is_a_clear_error(hn, retry) -> None:
    hn.fail_next("/api/v1", 200, body={"hits": [{"title": "no id"}]})
    with pytest.raises(SourceBadResponse, match="not in the documented shape .*without objectID"):
        HackerNewsCollector(hn.url, retry).collect(parse_query("acme"), 10)


def test_unreachable_is_unavailable(retry) -> None:
    with pytest.raises(SourceUnavailable, match="unreachable"):
        HackerNewsCollector("http://127.0.0.1:9", retry).collect(parse_query("acme"), 10)


def test_algolia_s_400_message_is_the_reason(hn, retry) -> None:
    """Algolia's error body, as its API answers a filter it cannot read."""
    hn.fail_next(
        "/api/v1/search_by_date",
        400,
        body={"message": "invalid numericFilters: Unexpected token", "status": 400},
    )
    with pytest.raises(SourceBadResponse) as caught:
        HackerNewsCollector(hn.url, retry).collect(parse_query("acme"), 10)
    assert caught.value.reason == (
        "Hacker News answered 400: invalid numericFilters: Unexpected token"
    )
