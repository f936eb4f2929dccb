"""Real recorded API traffic (tests/fixtures/README.md says whose) replayed through each
collector over HTTP, from the stand-ins: what a user would see from the real services."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.reddit import RedditCollector, make_reddit
from collectors.rss import FeedCollector
from collectors.twitter import TwitterCollector, make_client
from devtools.rss_standin import FeedStandIn
from sentibot.query import parse_query
from sentibot.sources import SourceBadResponse, collect

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
JSON = {"content-type": "application/json; charset=UTF-8"}


def _fixture(path: str) -> dict:
    return json.loads((FIXTURES / path).read_text())


def _reddit(standin, retry, subreddits: str = "all") -> RedditCollector:
    reddit = make_reddit(
        standin.client_id, standin.client_secret, "sentibot-tests/0.1", standin.url
    )
    return RedditCollector(reddit, subreddits=subreddits, retry=retry)


def test_an_x_page_has_its_entities_decoded_once(x_standin, retry) -> None:
    x_standin.fail_next("/2/tweets/search/recent", 200, body=_fixture("x/timeline_page.json"))
    collector = TwitterCollector(make_client(x_standin.bearer_token, x_standin.url), retry)
    result = collect(parse_query("AT&T"), {"x": collector}, 98)
    assert result.reports["x"].status == "ok"
    texts = {p.external_id: p.text for p in result.posts}
    assert len(texts) == 98
    assert texts["1577678849445355527"] == "NYC < London (weather this week)"
    assert any(t.startswith("So @alanbenlee @snowman & I are testing") for t in texts.values())
    assert not any("&amp;" in t or "&lt;" in t or "&gt;" in t for t in texts.values())
    # The recorded page has no created_at (no tweet.fields were asked): kept, undated.
    assert all(p.created_at is None for p in result.posts)
    assert x_standin.requests_to("/2/tweets/search/recent")[0].query["query"].startswith("AT&T")


def test_a_recorded_reddit_listing_and_a_403_comment_page(reddit_standin, retry) -> None:
    listing = _fixture("reddit/search_listing.json")
    forbidden = _fixture("reddit/forbidden.json")
    reddit_standin.fail_next("/r/all/search", 200, body=listing, headers=JSON)
    reddit_standin.fail_next("/comments/", 403, body=forbidden["body"], headers=JSON, times=5)
    result = collect(parse_query("praw"), {"reddit": _reddit(reddit_standin, retry)}, 100)
    report = result.reports["reddit"]
    ids = {p.external_id for p in result.posts}
    assert {c["data"]["id"] for c in listing["data"]["children"]} <= ids  # none thrown away
    assert report.status == "ok"
    assert "403 private or quarantined: Forbidden" in report.reason
    assert "REDDIT_CLIENT" not in report.reason  # the credentials were fine


def test_a_truncated_reddit_body_is_named_as_such(reddit_standin, retry) -> None:
    raw = json.dumps(_fixture("reddit/search_listing.json")).encode()
    reddit_standin.fail_next("/r/all/search", 200, body=raw[: len(raw) // 2], headers=JSON)
    result = collect(parse_query("praw"), {"reddit": _reddit(reddit_standin, retry)}, 100)
    assert result.reports["reddit"].status == "failed"
    assert result.reports["reddit"].reason == (
        f"Reddit sent a truncated body (cut off after {len(raw) // 2} bytes)"
    )


def test_a_search_in_a_missing_subreddit_says_so(reddit_standin, retry) -> None:
    # Reddit's 302 as praw recorded it: no body, a location header.
    reddit_standin.fail_next(
        "/r/nosuchsub/search",
        302,
        body=b"",
        headers={**JSON, "location": "https://oauth.reddit.com/subreddits/search?q=nosuchsub"},
    )
    collector = _reddit(reddit_standin, retry, subreddits="nosuchsub")
    result = collect(parse_query("praw"), {"reddit": collector}, 10)
    reason = result.reports["reddit"].reason
    assert "/subreddits/search (302)" in reason
    assert "REDDIT_SUBREDDITS" in reason


def test_a_reddit_404_body_is_the_reason(reddit_standin, retry) -> None:
    not_found = _fixture("reddit/not_found.json")
    reddit_standin.fail_next("/r/all/search", 404, body=not_found["body"], headers=JSON)
    with pytest.raises(SourceBadResponse, match="Reddit answered 404: Not Found"):
        _reddit(reddit_standin, retry).collect(parse_query("praw"), 10)


@pytest.fixture
def mastodon() -> Iterator[FeedStandIn]:
    with FeedStandIn({}) as standin:
        standin.fail_next(
            "/tags/kubernetes.rss",
            200,
            body=(FIXTURES / "feeds/mastodon_tag_kubernetes.rss").read_bytes(),
            headers={"content-type": "application/rss+xml; charset=utf-8"},
        )
        yield standin


def test_a_mastodon_tag_feed_is_found_by_its_hashtag(mastodon, retry) -> None:
    collector = FeedCollector([mastodon.url + "/tags/kubernetes.rss"], retry)
    result = collect(parse_query("#kubernetes"), {"rss": collector}, 50)
    assert result.reports["rss"].status == "ok"
    by_url = {p.url: p.text for p in result.posts}
    assert len(by_url) == 4  # every post in the tag feed carries the tag
    first = by_url["https://ioc.exchange/@jon404/111544891736153138"]
    assert "If you're in to #kubernetes and #homelab setups" in first
    assert "<span" not in first
    assert "🚀 ALERT" in by_url["https://fosstodon.org/@imdciangot/111544228725688234"]
