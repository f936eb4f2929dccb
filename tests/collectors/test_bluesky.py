"""Bluesky through the atproto SDK against the local PDS stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collectors import bluesky
from collectors.bluesky import BlueskyCollector
from devtools.bluesky_standin import BlueskyStandIn
from sentibot.query import parse_query
from sentibot.sources import RateLimited, SourceAuthError
from tests.collectors.conftest import corpus


@pytest.fixture
def pds() -> Iterator[BlueskyStandIn]:
    bluesky._clients.clear()  # one signed-in client per process: start each test signed out
    with BlueskyStandIn(corpus(250)) as standin:
        yield standin


def collector(pds: BlueskyStandIn, retry, password: str | None = None) -> BlueskyCollector:
    return BlueskyCollector(pds.url, pds.handle, password or pds.app_password, retry)


def test_pages_newest_first_and_the_next_run_starts_after_the_newest(pds, retry) -> None:
    batch = collector(pds, retry).collect(parse_query("acme"), 250)
    assert len(batch.posts) == 250
    calls = pds.requests_to("searchPosts")
    assert [c.query.get("cursor") for c in calls] == [None, "100", "200"]
    assert {c.query["sort"] for c in calls} == {"latest"}
    newest = batch.posts[0]
    assert newest.text == "acme post number 249"
    assert newest.url
    assert newest.url.startswith("https://bsky.app/profile/user")
    assert newest.lang == "en"
    assert batch.cursor == "2026-11-01T16:09:00.000000Z"
    again = collector(pds, retry).collect(parse_query("acme"), 250, batch.cursor)
    assert again.posts == []
    assert pds.requests_to("searchPosts")[-1].query["since"] == batch.cursor


def test_signs_in_once_and_refreshes_the_session_instead_of_signing_in_again(pds, retry) -> None:
    pds.access_ttl_s = 600  # the SDK refreshes a token that expires within 15 minutes
    for _ in range(3):
        collector(pds, retry).collect(parse_query("acme"), 10)
    assert pds.sessions_created == 1
    assert pds.refreshed >= 2


def test_a_wrong_app_password_names_the_settings(pds, retry) -> None:
    with pytest.raises(SourceAuthError) as caught:
        collector(pds, retry, password="wrong").collect(parse_query("acme"), 10)
    assert "BLUESKY_HANDLE and BLUESKY_APP_PASSWORD" in caught.value.reason


def test_429_waits_as_told_then_reads(pds, retry, sleeps) -> None:
    collector(pds, retry).collect(parse_query("acme"), 5)  # signed in
    pds.fail_next(
        "searchPosts",
        429,
        headers={"retry-after": "7"},
        body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
    )
    batch = collector(pds, retry).collect(parse_query("acme"), 5)
    assert sleeps == [7.0]
    assert len(batch.posts) == 5


def test_a_long_rate_limit_fails_the_source_with_the_reason(pds, retry) -> None:
    collector(pds, retry).collect(parse_query("acme"), 5)
    pds.fail_next(
        "searchPosts",
        429,
        headers={"retry-after": "900"},
        body={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
    )
    with pytest.raises(RateLimited) as caught:
        collector(pds, retry).collect(parse_query("acme"), 5)
    assert "429" in caught.value.reason


def test_an_expired_session_signs_in_again_and_reads(pds, retry) -> None:
    collector(pds, retry).collect(parse_query("acme"), 5)
    pds._access.clear()  # the PDS forgot every session (a restart, a revoked app password)
    batch = collector(pds, retry).collect(parse_query("acme"), 5)
    assert len(batch.posts) == 5
    assert pds.sessions_created == 2


def test_a_post_dated_in_the_future_does_not_freeze_the_cursor(retry) -> None:
    """A client wrote createdAt a year ahead (the appview indexed it now): the cursor follows
    the sort time, so the next run still finds the posts written after it."""
    from datetime import UTC, datetime, timedelta

    from devtools.corpus import CorpusPost, StaticCorpus

    now = datetime.now(UTC).replace(microsecond=0)
    posts = [
        CorpusPost("1", "acme from the future", "ahead", now + timedelta(days=365), indexed_at=now),
        CorpusPost("2", "acme an hour ago", "plain", now - timedelta(hours=1)),
    ]
    corpus = StaticCorpus(posts)
    bluesky._clients.clear()
    with BlueskyStandIn(corpus) as pds:
        first = collector(pds, retry).collect(parse_query("acme"), 50)
        assert len(first.posts) == 2
        assert first.cursor is not None
        assert first.cursor <= datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        later = now + timedelta(seconds=30)
        corpus.posts.append(CorpusPost("3", "acme written after", "next", later))
        again = collector(pds, retry).collect(parse_query("acme"), 50, first.cursor)
        assert [p.text for p in again.posts] == ["acme written after"]


def test_a_shortened_link_becomes_the_link_facet_s_full_url(retry) -> None:
    from devtools.corpus import CorpusPost, StaticCorpus

    text = "café acme review: blog.example.com/2026/12/acme-… worth a read"
    full = "https://blog.example.com/2026/12/acme-phone-review-after-a-month"
    post = CorpusPost("1", text, "reader", links=(("blog.example.com/2026/12/acme-…", full),))
    bluesky._clients.clear()
    with BlueskyStandIn(StaticCorpus([post])) as pds:
        batch = collector(pds, retry).collect(parse_query("acme"), 10)
    assert [p.text for p in batch.posts] == [f"café acme review: {full} worth a read"]
