from datetime import timedelta

import pytest

from collectors.reddit import RedditCollector, make_reddit
from devtools.corpus import CorpusPost
from devtools.reddit_standin import RedditStandIn
from sentibot.query import parse_query
from sentibot.sources import SourceAuthError, SourceUnavailable
from tests.collectors.conftest import T0, corpus


def collector(standin, retry, secret: str | None = None) -> RedditCollector:
    reddit = make_reddit(
        standin.client_id, secret or standin.client_secret, "sentibot-tests/0.1", standin.url
    )
    return RedditCollector(reddit, retry=retry)


def test_searches_with_application_oauth_and_paginates(reddit_standin, retry) -> None:
    posts = collector(reddit_standin, retry).collect(parse_query("acme"), 150).posts
    assert len(posts) == 150
    assert reddit_standin.requests_to("/api/v1/access_token")
    searches = reddit_standin.requests_to("/r/all/search")
    assert len(searches) == 2
    assert searches[0].query["q"] == "acme"
    assert searches[0].query["sort"] == "new"
    first = posts[0]
    assert first.source == "reddit"
    assert first.external_id == "1249"
    assert first.url == "https://www.reddit.com/r/demo/comments/1249/post/"
    assert first.engagement == 249 + 1
    assert first.created_at is not None
    assert first.created_at.tzinfo is not None


def test_empty_result(reddit_standin, retry) -> None:
    assert collector(reddit_standin, retry).collect(parse_query("zebra"), 25).posts == []


def test_bad_credentials_are_a_clear_auth_error(reddit_standin, retry) -> None:
    with pytest.raises(SourceAuthError, match="REDDIT_CLIENT_ID"):
        collector(reddit_standin, retry, secret="wrong").collect(parse_query("acme"), 10)


def test_persistent_server_errors_fail_the_source(reddit_standin, retry) -> None:
    reddit_standin.fail_next("/r/all/search", 503, body={"message": "down"}, times=20)
    with pytest.raises(SourceUnavailable):
        collector(reddit_standin, retry).collect(parse_query("acme"), 10)


def test_429_waits_then_continues(reddit_standin, retry, sleeps) -> None:
    reddit_standin.fail_next(
        "/r/all/search", 429, headers={"retry-after": "3"}, body={"message": "Too Many Requests"}
    )
    assert len(collector(reddit_standin, retry).collect(parse_query("acme"), 10).posts) == 10
    assert 3.0 in sleeps


def test_created_utc_cursor_stops_at_posts_already_read(reddit_standin, retry) -> None:
    c = collector(reddit_standin, retry)
    first = c.collect(parse_query("acme"), 10)
    assert first.cursor is not None
    assert float(first.cursor) == max(p.created_at.timestamp() for p in first.posts)
    again = c.collect(parse_query("acme"), 10, cursor=first.cursor)
    assert again.posts == []
    assert again.cursor == first.cursor


def test_comments_that_mention_the_topic_are_collected(retry) -> None:
    from devtools.corpus import CorpusPost, StaticCorpus
    from devtools.reddit_standin import RedditStandIn
    from tests.collectors.conftest import T0

    corpus = StaticCorpus([CorpusPost(id="s1", text="acme launch thread", created_at=T0)])
    comments = {
        "s1": [
            CorpusPost(id="k1", text="acme support was great", created_at=T0, likes=4),
            CorpusPost(id="k2", text="what time is it", created_at=T0),
        ]
    }
    with RedditStandIn(corpus, comments=comments) as standin:
        posts = collector(standin, retry).collect(parse_query("acme"), 10).posts
    assert [(p.external_id, p.text) for p in posts] == [
        ("s1", "acme launch thread"),
        ("t1_k1", "acme support was great"),
    ]
    assert posts[1].engagement == 4
    assert posts[1].url == "https://www.reddit.com/r/demo/comments/s1/post/k1/"


def test_boolean_queries_reach_reddit_in_its_syntax(reddit_standin, retry) -> None:
    collector(reddit_standin, retry).collect(parse_query("acme OR acmecorp -spam"), 5)
    assert (
        reddit_standin.requests_to("/r/all/search")[0].query["q"] == "(acme OR acmecorp) NOT spam"
    )


def test_429_with_reddit_reset_header_waits(reddit_standin, retry, sleeps) -> None:
    reddit_standin.fail_next(
        "/r/all/search", 429, headers={"x-ratelimit-reset": "12"}, body={"message": "slow"}
    )
    assert len(collector(reddit_standin, retry).collect(parse_query("acme"), 5).posts) == 5
    assert sleeps == [12.0]


def test_a_closed_thread_costs_its_comments_only_with_the_true_reason(retry) -> None:
    comments = {
        sid: [
            CorpusPost(
                id=f"c{sid}", text=f"acme reply under {sid}", created_at=T0 + timedelta(hours=1)
            )
        ]
        for sid in ("1000", "1001", "1002")
    }
    with RedditStandIn(corpus(3), comments=comments) as standin:
        # As Reddit answers for a private or quarantined thread.
        standin.fail_next(
            "/comments/1002",
            403,
            body={"reason": "private", "message": "Forbidden", "error": 403},
        )
        batch = collector(standin, retry).collect(parse_query("acme"), 50)
    ids = {p.external_id for p in batch.posts}
    assert {"1000", "1001", "1002"} <= ids  # the submissions already read are kept
    assert {"t1_c1000", "t1_c1001"} <= ids
    assert "t1_c1002" not in ids
    assert batch.partial is not None
    assert "1002" in batch.partial
    assert "403" in batch.partial
    assert "private" in batch.partial
    assert "REDDIT_CLIENT_ID" not in batch.partial


def test_no_comment_pages_once_the_limit_is_reached(reddit_standin, retry) -> None:
    posts = collector(reddit_standin, retry).collect(parse_query("acme"), 10).posts
    assert len(posts) == 10
    assert reddit_standin.requests_to("/comments/") == []
