"""Source discovery, settings, and collecting from several sources at once."""

from __future__ import annotations

import pytest

from sentibot.config.settings import Settings
from sentibot.query import Query, parse_query
from sentibot.sources import (
    Batch,
    SourceError,
    build_collectors,
    canonical_source,
    collect,
    display_name,
    source_names,
)


def test_every_source_module_is_found_in_order() -> None:
    assert source_names() == (
        "x",
        "reddit",
        "hn",
        "rss",
        "bluesky",
        "mastodon",
        "github",
        "stackexchange",
        "news",
    )
    assert canonical_source(" Twitter ") == "x"
    assert canonical_source("hackernews") == "hn"
    assert canonical_source("myspace") is None
    assert display_name("hn") == "Hacker News"


def test_keyless_sources_build_without_credentials() -> None:
    built = build_collectors(Settings(_env_file=None), ["x", "reddit", "hn", "rss"])
    assert built["x"].reason == "not configured (TWITTER_BEARER_TOKEN is not set)"
    assert "REDDIT_CLIENT_ID" in built["reddit"].reason
    assert built["hn"].name == "hn"
    assert built["rss"].reason == "not configured (RSS_FEEDS is not set)"


class Fake:
    def __init__(self, name: str, fail: bool = False, raises: BaseException | None = None) -> None:
        self.name = name
        self.fail = fail
        self.raises = raises
        self.cursors: list[str | None] = []

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        self.cursors.append(cursor)
        if self.raises is not None:
            raise self.raises
        if self.fail:
            raise SourceError("down")
        return Batch([], cursor="42")


def test_a_failed_source_keeps_its_cursor_and_others_advance() -> None:
    good, bad = Fake("hn"), Fake("rss", fail=True)
    out = collect(parse_query("acme"), {"hn": good, "rss": bad}, 10, {"hn": "1", "rss": "7"})
    assert out.cursors == {"hn": "42"}  # rss keeps "7" by not appearing
    assert out.reports["rss"].status == "failed"
    assert (good.cursors, bad.cursors) == (["1"], ["7"])


@pytest.mark.parametrize(
    "surprise", [RecursionError("maximum recursion depth exceeded"), KeyError("id"), OSError(5)]
)
def test_whatever_a_source_s_library_raises_fails_that_source_alone(surprise) -> None:
    good, bad = Fake("hn"), Fake("mastodon", raises=surprise)
    out = collect(parse_query("acme"), {"hn": good, "mastodon": bad}, 10, {"mastodon": "7"})
    assert out.reports["hn"].status == "ok"
    assert out.cursors == {"hn": "42"}  # mastodon keeps "7"
    assert out.reports["mastodon"].status == "failed"
    assert type(surprise).__name__ in out.reports["mastodon"].reason


class Slow:
    """A source that waits on the network for `seconds`, recording when it did."""

    def __init__(self, name: str, seconds: float) -> None:
        self.name, self.seconds = name, seconds
        self.span: tuple[float, float] | None = None

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        import time

        started = time.monotonic()
        time.sleep(self.seconds)
        self.span = (started, time.monotonic())
        from sentibot.sources import Post

        return Batch([Post(self.name, "1", f"acme from {self.name}")], "1")


def test_sources_are_read_side_by_side_and_reported_as_they_finish() -> None:
    slow, fast = Slow("x", 0.6), Slow("hn", 0.2)
    heard: list[str] = []
    result = collect(
        parse_query("acme"), {"x": slow, "hn": fast}, 10, on_report=lambda n, r: heard.append(n)
    )
    assert slow.span[0] < fast.span[1]
    assert fast.span[0] < slow.span[1]
    assert heard == ["hn", "x"]  # the faster one is heard first
    assert [p.source for p in result.posts] == ["x", "hn"]  # yet kept in the sources' order
    assert result.reports["x"].count == 1
