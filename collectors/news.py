"""News search as a feed: a search RSS URL with `{query}` (default Google News in English), read
by the feed collector, so a team gets news without finding feed URLs itself."""

from __future__ import annotations

from collectors.base import unix_cursor
from collectors.rss import FeedCollector
from sentibot.config.settings import Settings
from sentibot.sources import RetryPolicy, SourceSpec


def _build(settings: Settings, retry: RetryPolicy | None) -> FeedCollector:
    template = settings.require("news_search_url", "the news source")
    return FeedCollector([template], retry, source="news")


SOURCE = SourceSpec(
    name="news",
    display="News",
    build=_build,
    aliases=("googlenews", "google-news"),
    order=80,
    needs="nothing (NEWS_SEARCH_URL changes the search)",
    cursor_at=unix_cursor,
)
