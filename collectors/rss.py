"""RSS and Atom feeds (news sites, blogs, subreddit and Mastodon tag feeds) through feedparser.

Feeds carry no search, so every entry is matched against the query here.
"""

from __future__ import annotations

import calendar
import hashlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

import feedparser
import requests

from collectors.base import newer, side_by_side, unix_cursor, with_retries
from collectors.boundary import html_to_text
from sentibot.config.settings import Settings
from sentibot.query import Query
from sentibot.sources import (
    Batch,
    Post,
    RateLimited,
    RetryPolicy,
    SourceBadResponse,
    SourceError,
    SourceSpec,
    SourceUnavailable,
)

log = logging.getLogger(__name__)


class FeedCollector:
    name = "rss"

    def __init__(
        self,
        feeds: Sequence[str],
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        timeout_s: float = 10.0,
        source: str = "rss",
    ) -> None:
        self.name = source
        self.feeds = list(feeds)
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self.timeout_s = timeout_s

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        """Matching entries newer than the cursor from every feed; one broken feed does not
        hide the others, but if every feed fails the source fails."""
        since = float(cursor) if cursor else None
        posts: dict[str, Post] = {}
        newest = cursor
        errors: list[str] = []
        # The whole topic word encoded: a topic never reaches another path on the host.
        word = quote(query.groups[0][0].text.replace(" ", ""), safe="")
        searched = quote(query.to_news(), safe="")
        urls = [t.replace("{topic}", word).replace("{query}", searched) for t in self.feeds]
        fetched = side_by_side(urls, lambda u: with_retries(lambda: self._fetch(u), self.retry))
        for url, parsed in zip(urls, fetched, strict=True):
            if isinstance(parsed, SourceError):
                log.warning("feed %s failed: %s", _shown(url), parsed.reason)
                errors.append(parsed.reason)
                continue
            lang = (parsed.feed.get("language") or "")[:2] or None
            for entry in parsed.entries:
                post = _to_post(self.name, url, entry, lang)
                if post is None or not query.matches(post.text, lang):
                    continue
                stamp = post.created_at.timestamp() if post.created_at else None
                if since is not None and stamp is not None and stamp <= since:
                    continue
                posts.setdefault(post.external_id, post)
                # A cursor never moves past now: one entry dated in the future would hide
                # every newer entry until that date.
                newest = newer(newest, None if stamp is None else min(stamp, time.time()))
        if errors and len(errors) == len(self.feeds):
            raise SourceUnavailable(
                errors[0] if len(errors) == 1 else f"all feeds failed: {errors[0]}"
            )
        ordered = sorted(
            posts.values(),
            key=lambda p: p.created_at or datetime.min.replace(tzinfo=UTC),
            reverse=True,
        )
        partial = f"{len(errors)} of {len(self.feeds)} feeds failed: " + "; ".join(errors)
        return Batch(ordered[:limit], newest, partial=partial if errors else None)

    def _fetch(self, address: str) -> feedparser.FeedParserDict:
        url = _shown(address)  # how reasons name the feed: never its query string (tokens)
        try:
            response = self.session.get(address, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise SourceUnavailable(f"feed {url} unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429:
            wait = response.headers.get("retry-after")
            raise RateLimited(f"feed {url} rate limited (429)", float(wait) if wait else None)
        if response.status_code >= 500:
            raise SourceUnavailable(f"feed {url} server error ({response.status_code})")
        if response.status_code != 200:
            raise SourceBadResponse(f"feed {url} answered {response.status_code}")
        # The HTTP charset decides when the XML does not say (RFC 3023): KOI8-R or Shift-JIS
        # feeds named only in Content-Type were stored as mojibake without it.
        headers = {"content-type": response.headers.get("content-type", "")}
        parsed = feedparser.parse(response.content, response_headers=headers)
        if parsed.bozo and not parsed.entries:
            raise SourceBadResponse(f"feed {url} is not RSS or Atom")
        return parsed


def _shown(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _to_post(
    source: str, feed_url: str, entry: feedparser.FeedParserDict, lang: str | None = None
) -> Post | None:
    title = _text(entry, "title")
    summary = _text(entry, "summary")
    if "<li" in str(entry.get("summary") or "").lower():
        # A news topic's summary is a list of other publishers' headlines on the story: it
        # would fold five articles into one scored post. The item is its own headline.
        summary = ""
    # A news search names the publisher in <source> and again at the end of the headline
    # ("… - TAG24"): it is the author, not part of what was said.
    publisher = (
        (entry.get("source") or {}).get("title") if hasattr(entry.get("source"), "get") else None
    )
    if publisher and title.endswith(f" - {publisher}"):
        title = title.removesuffix(f" - {publisher}").rstrip()
    text = "\n".join(t for t in (title, summary) if t)
    if not text:
        return None
    # A guid or link names the entry wherever it is syndicated; without one, feed and text do.
    key = entry.get("id") or entry.get("link") or f"{feed_url}\n{text}"
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    created = datetime.fromtimestamp(calendar.timegm(parsed), UTC) if parsed else None
    return Post(
        source=source,
        external_id=hashlib.sha1(key.encode()).hexdigest(),
        text=text,
        author=entry.get("author") or publisher,
        url=entry.get("link"),
        created_at=created,
        lang=lang,
    )


def _text(entry: feedparser.FeedParserDict, field: str) -> str:
    """A field as text: markup removed only where the feed says it is HTML (a plain-text
    title "History of the <blink> tag" keeps its brackets)."""
    value = entry.get(field)
    if not isinstance(value, str):
        return ""
    detail = entry.get(f"{field}_detail") or {}
    if hasattr(detail, "get") and detail.get("type") == "text/plain":
        return " ".join(value.split())
    return html_to_text(value)


def _build(settings: Settings, retry: RetryPolicy | None) -> FeedCollector:
    settings.require("rss_feeds", "the RSS source")
    feeds = [f.strip() for f in settings.rss_feeds.split(",") if f.strip()]
    return FeedCollector(feeds, retry)


SOURCE = SourceSpec(
    name="rss",
    display="RSS",
    build=_build,
    aliases=("feeds", "atom"),
    order=40,
    needs="RSS_FEEDS (feed URLs, comma-separated)",
    cursor_at=unix_cursor,
)
