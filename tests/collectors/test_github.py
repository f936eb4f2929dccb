"""GitHub issue search against the REST stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collectors.github import GitHubCollector
from devtools.github_standin import GitHubStandIn
from sentibot.query import parse_query
from sentibot.sources import RateLimited, SourceAuthError
from tests.collectors.conftest import corpus


@pytest.fixture
def github() -> Iterator[GitHubStandIn]:
    with GitHubStandIn(corpus(250)) as standin:
        yield standin


def test_pages_newest_first_and_the_cursor_adds_a_created_qualifier(github, retry) -> None:
    batch = GitHubCollector(None, github.url, retry).collect(parse_query("acme"), 250)
    assert len(batch.posts) == 250
    pages = github.requests_to("/search/issues")
    assert [p.query["page"] for p in pages] == ["1", "2", "3"]
    assert {(p.query["sort"], p.query["order"]) for p in pages} == {("created", "desc")}
    newest = batch.posts[0]
    assert newest.text == "acme post number 249"
    assert newest.url
    assert newest.url.startswith("https://github.com/acme/app/issues/")
    assert batch.cursor == str(int(newest.created_at.timestamp()))
    assert batch.quota == "7 of 10 searches left this minute"
    again = GitHubCollector(None, github.url, retry).collect(parse_query("acme"), 250, batch.cursor)
    assert again.posts == []
    assert (
        github.requests_to("/search/issues")[-1].query["q"] == "acme created:>2026-11-01T16:09:00Z"
    )


def test_a_token_is_sent_and_raises_the_limit(github, retry) -> None:
    batch = GitHubCollector(github.token, github.url, retry).collect(parse_query("acme"), 10)
    assert github.calls[-1].headers["authorization"] == f"Bearer {github.token}"
    assert batch.quota == "29 of 30 searches left this minute"


def test_a_bad_token_names_github_token(github, retry) -> None:
    with pytest.raises(SourceAuthError) as caught:
        GitHubCollector("ghp_wrong", github.url, retry).collect(parse_query("acme"), 10)
    assert "GITHUB_TOKEN" in caught.value.reason
    assert "Bad credentials" in caught.value.reason


def test_a_spent_search_limit_waits_until_the_reset(retry, sleeps) -> None:
    with GitHubStandIn(corpus(5), per_minute=(1, 30)) as github:
        GitHubCollector(None, github.url, retry).collect(parse_query("acme"), 5)
        with pytest.raises(RateLimited) as caught:  # the reset is ~60 s away: over max_wait_s
            GitHubCollector(None, github.url, retry).collect(parse_query("acme"), 5)
    assert "rate limit" in caught.value.reason
    assert "403" in caught.value.reason
    assert 50 < (caught.value.retry_after or 0) <= 60


def test_a_secondary_limit_with_retry_after_is_waited_out(github, retry, sleeps) -> None:
    github.fail_next(
        "/search/issues",
        403,
        headers={"retry-after": "3"},
        body={"message": "You have exceeded a secondary rate limit."},
    )
    batch = GitHubCollector(None, github.url, retry).collect(parse_query("acme"), 5)
    assert sleeps == [3.0]
    assert len(batch.posts) == 5


def test_a_secondary_limit_without_retry_after_is_waited_out_not_blamed_on_the_token(
    github, retry, sleeps
) -> None:
    """GitHub's secondary limit as recorded in client libraries' tests: 403, requests still
    remaining, no Retry-After. It is a rate limit (not "check GITHUB_TOKEN"), the wait is at
    least a minute, and the next run within it sends nothing; a later limit waits longer."""
    from collectors import github as github_module

    github_module._paused.clear()
    limited = {
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes "
        "before you try again.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
        "#about-secondary-rate-limits",
    }
    github.fail_next("/search/issues", 403, headers={"x-ratelimit-remaining": "9"}, body=limited)
    with pytest.raises(RateLimited) as caught:
        GitHubCollector(github.token, github.url, retry).collect(parse_query("acme"), 5)
    assert "secondary rate limit" in caught.value.reason
    assert "GITHUB_TOKEN" not in caught.value.reason
    assert caught.value.retry_after == 60
    asked = len(github.requests_to("/search/issues"))
    with pytest.raises(RateLimited):  # the next run, inside the minute: no request at all
        GitHubCollector(github.token, github.url, retry).collect(parse_query("acme"), 5)
    assert len(github.requests_to("/search/issues")) == asked
    github_module._paused[github.url] = (0.0, 1)  # the minute is over; a second limit follows
    github.fail_next("/search/issues", 403, body=limited)
    with pytest.raises(RateLimited) as again:
        GitHubCollector(github.token, github.url, retry).collect(parse_query("acme"), 5)
    assert again.value.retry_after == 120
    github_module._paused.clear()
