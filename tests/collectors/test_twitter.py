import pytest

from collectors.twitter import TwitterCollector, make_client
from devtools.corpus import CorpusPost, StaticCorpus
from devtools.twitter_standin import TwitterStandIn
from sentibot.query import parse_query
from sentibot.sources import RateLimited, SourceAuthError, SourceBadResponse, SourceUnavailable


def collector(standin, retry, token: str | None = None) -> TwitterCollector:
    return TwitterCollector(make_client(token or standin.bearer_token, standin.url), retry)


def test_paginates_until_the_limit(x_standin, retry) -> None:
    posts = collector(x_standin, retry).collect(parse_query("acme"), 230).posts
    assert len(posts) == 230
    assert len({p.external_id for p in posts}) == 230
    pages = x_standin.requests_to("/2/tweets/search/recent")
    assert [r.query.get("next_token") for r in pages] == [None, "100", "200"]
    assert pages[0].query["query"] == "acme -is:retweet"
    newest = posts[0]
    assert newest.external_id == "1249"
    assert newest.source == "x"
    assert newest.author == "user4"
    assert newest.url == "https://x.com/user4/status/1249"
    assert newest.engagement == 249 + 1
    assert newest.created_at is not None
    assert newest.created_at.tzinfo is not None


def test_stops_when_results_run_out(x_standin, retry) -> None:
    assert len(collector(x_standin, retry).collect(parse_query("acme"), 1000).posts) == 250


def test_empty_result(x_standin, retry) -> None:
    assert collector(x_standin, retry).collect(parse_query("zebra"), 50).posts == []


def test_bad_token_is_a_clear_auth_error(x_standin, retry) -> None:
    with pytest.raises(SourceAuthError, match="TWITTER_BEARER_TOKEN"):
        collector(x_standin, retry, token="wrong").collect(parse_query("acme"), 10)


def test_403_says_the_plan_may_lack_search(x_standin, retry) -> None:
    x_standin.fail_next("/2/tweets", 403, body={"title": "Forbidden", "status": 403})
    with pytest.raises(SourceAuthError, match="plan"):
        collector(x_standin, retry).collect(parse_query("acme"), 10)


def test_429_waits_as_told_then_continues(x_standin, retry, sleeps) -> None:
    x_standin.fail_next(
        "/2/tweets", 429, headers={"retry-after": "7"}, body={"title": "Too Many Requests"}
    )
    posts = collector(x_standin, retry).collect(parse_query("acme"), 20).posts
    assert len(posts) == 20
    assert sleeps == [7.0]


def test_429_past_the_retries_fails(x_standin, retry) -> None:
    x_standin.fail_next("/2/tweets", 429, headers={"retry-after": "1"}, times=5)
    with pytest.raises(RateLimited):
        collector(x_standin, retry).collect(parse_query("acme"), 20)


def test_5xx_backs_off_then_succeeds(x_standin, retry, sleeps) -> None:
    x_standin.fail_next("/2/tweets", 503, body={"title": "Service Unavailable"}, times=2)
    assert len(collector(x_standin, retry).collect(parse_query("acme"), 10).posts) == 10
    assert sleeps == [0.5, 1.0]


def test_5xx_past_the_retries_fails(x_standin, retry) -> None:
    x_standin.fail_next("/2/tweets", 500, body={"title": "oops"}, times=3)
    with pytest.raises(SourceUnavailable):
        collector(x_standin, retry).collect(parse_query("acme"), 10)


def test_malformed_body_is_a_clear_error(x_standin, retry) -> None:
    x_standin.fail_next("/2/tweets", 200, body=b"<html>not json</html>")
    with pytest.raises(SourceBadResponse, match="not JSON .*'<html>not json</html>'"):
        collector(x_standin, retry).collect(parse_query("acme"), 10)


def test_since_id_cursor_reads_only_newer_tweets(x_standin, retry) -> None:
    c = collector(x_standin, retry)
    first = c.collect(parse_query("acme"), 50)
    assert first.cursor == "1249"  # the newest id seen
    assert first.billed == 50
    again = c.collect(parse_query("acme"), 50, cursor=first.cursor)
    assert again.posts == []
    assert again.cursor == "1249"  # nothing new: the cursor stands
    assert x_standin.requests_to("/2/tweets")[-1].query["since_id"] == "1249"


def test_the_query_grammar_reaches_x_as_operators(x_standin, retry) -> None:
    batch = collector(x_standin, retry).collect(parse_query('acme -"number 1" lang:en'), 300)
    sent = x_standin.requests_to("/2/tweets")[0].query["query"]
    assert sent == 'acme -"number 1" lang:en -is:retweet'
    assert len(batch.posts) == 249  # "acme post number 1" left out


def test_a_refused_query_says_what_x_said(x_standin, retry) -> None:
    # The shape of X API v2's answer to an invalid query (its documented problem format).
    x_standin.fail_next(
        "/2/tweets/search/recent",
        400,
        body={
            "errors": [
                {
                    "parameters": {"query": ["acme ("]},
                    "message": "There were errors processing your request: no viable "
                    "alternative at input '(' (at position 6)",
                }
            ],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
    )
    with pytest.raises(SourceBadResponse, match=r"X answered 400: .*no viable alternative"):
        collector(x_standin, retry).collect(parse_query("acme"), 10)


def test_entities_in_text_are_decoded_once(retry) -> None:
    # X writes &, < and > as entities in `text` (seen in recorded search pages).
    posts = [CorpusPost(id="1", text="acme: Debt &amp; owned &lt;3 &amp;amp;")]
    with TwitterStandIn(StaticCorpus(posts)) as standin:
        (post,) = collector(standin, retry).collect(parse_query("acme"), 10).posts
    assert post.text == "acme: Debt & owned <3 &amp;"
