import pytest

from sentibot.collectors.base import SourceAuthError, SourceUnavailable
from sentibot.collectors.reddit import RedditCollector, make_reddit


def collector(standin, retry, secret: str | None = None) -> RedditCollector:  # noqa: ANN001
    reddit = make_reddit(
        standin.client_id, secret or standin.client_secret, "sentibot-tests/0.1", standin.url
    )
    return RedditCollector(reddit, retry=retry)


def test_searches_with_application_oauth_and_paginates(reddit_standin, retry) -> None:  # noqa: ANN001
    posts = collector(reddit_standin, retry).search("acme", 150)
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


def test_empty_result(reddit_standin, retry) -> None:  # noqa: ANN001
    assert collector(reddit_standin, retry).search("zebra", 25) == []


def test_bad_credentials_are_a_clear_auth_error(reddit_standin, retry) -> None:  # noqa: ANN001
    with pytest.raises(SourceAuthError, match="REDDIT_CLIENT_ID"):
        collector(reddit_standin, retry, secret="wrong").search("acme", 10)


def test_persistent_server_errors_fail_the_source(reddit_standin, retry) -> None:  # noqa: ANN001
    reddit_standin.fail_next("/r/all/search", 503, body={"message": "down"}, times=20)
    with pytest.raises(SourceUnavailable):
        collector(reddit_standin, retry).search("acme", 10)


def test_429_waits_then_continues(reddit_standin, retry, sleeps) -> None:  # noqa: ANN001
    reddit_standin.fail_next(
        "/r/all/search", 429, headers={"retry-after": "3"}, body={"message": "Too Many Requests"}
    )
    assert len(collector(reddit_standin, retry).search("acme", 10)) == 10
    assert 3.0 in sleeps
