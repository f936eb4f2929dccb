"""Stack Exchange `/search/excerpts` against the API stand-in: quota, backoff, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from collectors import stackexchange
from collectors.stackexchange import StackExchangeCollector
from devtools.stackexchange_standin import StackExchangeStandIn
from sentibot.query import parse_query
from sentibot.sources import RateLimited, SourceAuthError, SourceBadResponse
from tests.collectors.conftest import corpus


@pytest.fixture
def api() -> Iterator[StackExchangeStandIn]:
    stackexchange._backoff_until.clear()
    with StackExchangeStandIn(corpus(150)) as standin:
        yield standin


def test_pages_each_site_and_keeps_a_cursor_per_site(api, retry) -> None:
    sites = ["stackoverflow", "superuser"]
    batch = StackExchangeCollector(sites, None, api.url, retry).collect(parse_query("acme"), 150)
    assert len(batch.posts) == 150  # the same corpus on both sites: ids differ by site
    assert {p.external_id.split(":")[0] for p in batch.posts} <= set(sites)
    cursors = json.loads(batch.cursor or "{}")
    assert set(cursors) == set(sites)
    assert batch.quota == "296 of 300 requests left today"
    again = StackExchangeCollector(sites, None, api.url, retry).collect(
        parse_query("acme"), 150, batch.cursor
    )
    assert again.posts == []
    assert api.requests_to("/2.3/search/excerpts")[-1].query["fromdate"] == str(
        cursors[api.requests_to("/2.3/search/excerpts")[-1].query["site"]] + 1
    )


def test_the_backoff_field_is_honoured_before_the_next_call(api, retry, sleeps) -> None:
    api.backoff = 10
    StackExchangeCollector(["stackoverflow"], None, api.url, retry).collect(parse_query("acme"), 5)
    api.backoff = None
    calls = len(api.calls)
    batch = StackExchangeCollector(["stackoverflow"], None, api.url, retry).collect(
        parse_query("acme"), 5
    )
    assert sleeps
    assert 9 < sleeps[0] <= 10
    assert len(api.calls) == calls + 1
    assert len(batch.posts) == 5


def test_a_spent_daily_quota_fails_with_the_reason(api, retry) -> None:
    api.quota_left[False] = 0
    with pytest.raises(RateLimited) as caught:
        StackExchangeCollector(["stackoverflow"], None, api.url, retry).collect(
            parse_query("acme"), 5
        )
    assert "throttle" in caught.value.reason
    assert caught.value.retry_after == 82800


def test_a_bad_key_names_stackexchange_key(api, retry) -> None:
    with pytest.raises(SourceAuthError) as caught:
        StackExchangeCollector(["stackoverflow"], "nope", api.url, retry).collect(
            parse_query("acme"), 5
        )
    assert "STACKEXCHANGE_KEY" in caught.value.reason


def test_an_unknown_site_names_stackexchange_sites(api, retry) -> None:
    with pytest.raises(SourceBadResponse) as caught:
        StackExchangeCollector(["nosuchsite"], None, api.url, retry).collect(parse_query("a"), 5)
    assert "STACKEXCHANGE_SITES" in caught.value.reason


def test_one_bad_site_of_two_leaves_the_other(api, retry) -> None:
    batch = StackExchangeCollector(["nosuchsite", "stackoverflow"], None, api.url, retry).collect(
        parse_query("acme"), 10
    )
    assert len(batch.posts) == 10
    assert batch.partial
    assert batch.partial.startswith("nosuchsite: ")


@pytest.mark.parametrize(
    ("site", "link"),
    [
        ("stackoverflow", "https://stackoverflow.com/q/"),
        ("webapps", "https://webapps.stackexchange.com/q/"),
        ("meta", "https://meta.stackexchange.com/q/"),
        ("meta.stackoverflow", "https://meta.stackoverflow.com/q/"),
        ("mathoverflow.net", "https://mathoverflow.net/q/"),
    ],
)
def test_links_go_to_the_site_s_own_address(site, link, retry) -> None:
    """`/2.3/sites` says where each site lives (webapps is not webapps.com); without it, the
    same rules name the usual addresses."""
    for sites_answer in ("read", "failing"):
        stackexchange._site_urls.clear()
        with StackExchangeStandIn(corpus(3)) as api:
            if sites_answer == "failing":
                api.fail_next("/2.3/sites", 503, body={"error_id": 503}, times=10)
            batch = StackExchangeCollector([site], None, api.url, retry).collect(
                parse_query("acme"), 3
            )
            asked = api.requests_to("/2.3/sites")
        assert asked, "the site list was not read"
        assert batch.posts
        assert all((p.url or "").startswith(link) for p in batch.posts), (
            sites_answer,
            batch.posts[0].url,
        )
