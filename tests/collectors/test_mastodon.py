"""Mastodon through Mastodon.py against local instances."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from collectors.mastodon import MastodonCollector
from devtools.corpus import CorpusPost
from devtools.mastodon_standin import MastodonStandIn, rate_limited
from sentibot.query import parse_query
from sentibot.sources import RateLimited, SourceAuthError
from tests.collectors.conftest import T0, corpus


@pytest.fixture
def instance() -> Iterator[MastodonStandIn]:
    with MastodonStandIn(corpus(100)) as standin:
        yield standin


def test_reads_the_hashtag_timeline_page_by_page_and_then_only_what_is_newer(
    instance, retry
) -> None:
    batch = MastodonCollector([instance.url], retry=retry).collect(parse_query("acme"), 100)
    assert len(batch.posts) == 100
    pages = instance.requests_to("/api/v1/timelines/tag/acme")
    assert len(pages) == 3
    assert "max_id" in pages[1].query
    cursor = json.loads(batch.cursor or "{}")
    newest = max(instance.status_id(p) for p in instance.corpus.posts if "acme" in p.text)
    assert cursor == {instance.url: str(newest)}
    instance.corpus.posts.append(
        CorpusPost(
            id="5001",
            text="acme is down again #acme",
            author="late",
            created_at=T0.replace(hour=20),
        )
    )
    again = MastodonCollector([instance.url], retry=retry).collect(
        parse_query("acme"), 100, batch.cursor
    )
    assert [p.text for p in again.posts] == ["acme is down again #acme"]
    assert instance.requests_to("/api/v1/timelines/tag/acme")[-1].query["min_id"] == str(newest)


def test_html_content_becomes_plain_text_with_language_and_author(instance, retry) -> None:
    instance.corpus.posts.append(
        CorpusPost(id="7", text="I <3 #acme & its support", author="ana", created_at=T0, lang="pt")
    )
    batch = MastodonCollector([instance.url], retry=retry).collect(parse_query("acme"), 200)
    post = next(p for p in batch.posts if p.author == "ana@mastodon.example")
    assert post.text == "I <3 #acme & its support"
    assert post.lang == "pt"
    assert post.url == "https://mastodon.example/@ana/7"


def test_the_same_status_seen_on_two_instances_is_one_post() -> None:
    shared = corpus(30)
    with MastodonStandIn(shared) as one, MastodonStandIn(shared, id_offset=7) as two:
        urls = [one.url, two.url]
        batch = MastodonCollector(urls).collect(parse_query("acme"), 100)
    assert len(one.calls)
    assert len(two.calls)
    assert len(batch.posts) == 30
    assert len({p.external_id for p in batch.posts}) == 30
    assert set(json.loads(batch.cursor or "{}")) == set(urls)  # a cursor each


def test_an_instance_that_needs_a_token_says_which_setting(retry) -> None:
    with MastodonStandIn(corpus(5), require_token=True) as locked:
        with pytest.raises(SourceAuthError) as caught:
            MastodonCollector([locked.url], retry=retry).collect(parse_query("acme"), 10)
    assert "MASTODON_ACCESS_TOKEN" in caught.value.reason


def test_with_a_token_full_text_search_runs_too(retry) -> None:
    with MastodonStandIn(corpus(5), token="tok") as instance:
        MastodonCollector([instance.url], "tok", retry).collect(parse_query("acme"), 10)
        (search,) = instance.requests_to("/api/v2/search")
    assert search.query["q"] == "acme"
    assert search.query["type"] == "statuses"


def test_429_waits_until_the_reset_then_reads(instance, retry, sleeps) -> None:
    body, headers = rate_limited(reset_in_s=3)
    instance.fail_next("/timelines/tag/", 429, headers=headers, body=body)
    batch = MastodonCollector([instance.url], retry=retry).collect(parse_query("acme"), 10)
    assert len(batch.posts) == 10
    assert len(sleeps) == 1
    assert 0 < sleeps[0] <= 3.5


def test_one_instance_down_leaves_the_other_reporting(instance, retry) -> None:
    with MastodonStandIn(corpus(5)) as down:
        down.fail_next("/timelines/tag/", 503, times=10)
        batch = MastodonCollector([instance.url, down.url], retry=retry).collect(
            parse_query("acme"), 10
        )
    assert len(batch.posts) == 10
    assert batch.partial
    assert "server error" in batch.partial


def test_rate_limit_everywhere_fails_the_source(instance) -> None:
    from sentibot.sources import RetryPolicy

    body, headers = rate_limited(reset_in_s=600)
    instance.fail_next("/timelines/tag/", 429, headers=headers, body=body)
    with pytest.raises(RateLimited):
        MastodonCollector([instance.url], retry=RetryPolicy(max_wait_s=5)).collect(
            parse_query("acme"), 10
        )


def test_a_failing_instance_endpoint_costs_no_search() -> None:
    """Mastodon.py asks `/api/v1/instance` (then v2) for the version before a search; when
    both answered 503 it recursed ~960 requests deep into a RecursionError. The version is
    named now: the search runs, and the instance endpoint is not asked again and again."""
    with MastodonStandIn(corpus(10), token="token") as instance:
        for path in ("/api/v1/instance", "/api/v2/instance"):
            instance.fail_next(path, 503, body={"error": "unavailable"}, times=5000)
        batch = MastodonCollector([instance.url], access_token="token").collect(
            parse_query("acme"), 40
        )
        assert len(batch.posts) == 10
        assert len(instance.requests_to("/api/v2/search")) == 1
        assert len(instance.requests_to("/instance")) <= 2


def test_more_new_statuses_than_the_limit_are_all_stored_over_the_next_runs(retry) -> None:
    """30 new statuses, a limit of 25: this run takes the oldest 25 after the cursor and the
    next one the other 5 (it took the newest 25 and moved past all 30: 5 never stored)."""
    from datetime import timedelta

    from devtools.corpus import StaticCorpus
    from tests.collectors.conftest import T0

    first = [
        CorpusPost(f"{1000 + i}", f"acme old {i} #acme", "x", T0 + timedelta(minutes=i))
        for i in range(3)
    ]
    corpus = StaticCorpus(first)
    with MastodonStandIn(corpus) as instance:
        collector = MastodonCollector([instance.url], retry=retry)
        cursor = collector.collect(parse_query("acme"), 25).cursor
        corpus.posts += [
            CorpusPost(
                f"{2000 + i}", f"acme new {i} #acme", "y", T0 + timedelta(hours=1, minutes=i)
            )
            for i in range(30)
        ]
        stored: set[str] = set()
        for _ in range(2):
            batch = collector.collect(parse_query("acme"), 25, cursor)
            assert len(batch.posts) <= 25
            stored |= {p.text for p in batch.posts}
            cursor = batch.cursor
    assert stored == {f"acme new {i} #acme" for i in range(30)}
