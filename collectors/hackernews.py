"""Hacker News stories and comments through Algolia's public search API (no key needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import partial
from typing import Any

import requests

from collectors.base import error_message, malformed, newer, side_by_side, unix_cursor, with_retries
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

PAGE_SIZE = 100


class HackerNewsCollector:
    name = "hn"

    def __init__(
        self,
        api_url: str = "https://hn.algolia.com",
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.session = session or requests.Session()
        self.timeout_s = timeout_s

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        """One search per OR alternative (Algolia has no OR), side by side."""
        posts: dict[str, Post] = {}
        newest = cursor
        for found in side_by_side(
            query.to_algolia(), lambda text: self._search(query, text, limit, cursor)
        ):
            if isinstance(found, SourceError):
                raise found
            for post, created in found:
                posts.setdefault(post.external_id, post)
                newest = newer(newest, created)
        ordered = sorted(posts.values(), key=lambda p: p.created_at or datetime.min, reverse=True)
        return Batch(ordered[:limit], newest)

    def _search(
        self, query: Query, text: str, limit: int, cursor: str | None
    ) -> list[tuple[Post, int]]:
        found: list[tuple[Post, int]] = []
        page = 0
        while len(found) < limit:
            body = with_retries(partial(self._page, text, page, cursor), self.retry)
            hits, pages = _hits(body)
            for hit in hits:
                post = _to_post(hit)
                if post is not None and query.matches(post.text):
                    found.append((post, int(hit["created_at_i"])))
            page += 1
            if page >= pages or not hits:
                break
        return found

    def _page(self, text: str, page: int, cursor: str | None) -> Any:
        params: dict[str, Any] = {
            "query": text,
            "tags": "(story,comment)",
            "hitsPerPage": PAGE_SIZE,
            "page": page,
            "advancedSyntax": "true",
        }
        if cursor:
            params["numericFilters"] = f"created_at_i>{int(float(cursor))}"
        try:
            response = self.session.get(
                f"{self.api_url}/api/v1/search_by_date", params=params, timeout=self.timeout_s
            )
        except requests.RequestException as exc:
            raise SourceUnavailable(f"Hacker News unreachable: {type(exc).__name__}") from exc
        if response.status_code == 429:
            wait = response.headers.get("retry-after")
            raise RateLimited("Hacker News rate limit reached (429)", float(wait) if wait else None)
        if response.status_code >= 500:
            raise SourceUnavailable(f"Hacker News server error ({response.status_code})")
        if response.status_code != 200:
            detail = error_message(response)
            raise SourceBadResponse(
                f"Hacker News answered {response.status_code}" + (f": {detail}" if detail else "")
            )
        try:
            return response.json()
        except ValueError as exc:
            raise SourceBadResponse(malformed("Hacker News", exc)) from exc


def _hits(body: Any) -> tuple[list[dict[str, Any]], int]:
    try:
        hits = body["hits"]
        pages = int(body.get("nbPages", 1))
        if not isinstance(hits, list) or any("objectID" not in h for h in hits):
            raise TypeError("hits without objectID")
        for h in hits:
            int(h["created_at_i"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise SourceBadResponse(malformed("Hacker News", exc)) from exc
    return hits, pages


def _to_post(hit: dict[str, Any]) -> Post | None:
    title = html_to_text(hit.get("title") or hit.get("story_title"))
    body = html_to_text(hit.get("comment_text") or hit.get("story_text"))
    is_comment = bool(hit.get("comment_text"))
    text = body if is_comment else "\n".join(t for t in (title, body) if t)
    if not text:
        return None
    return Post(
        source="hn",
        external_id=str(hit["objectID"]),
        text=text,
        author=hit.get("author"),
        url=f"https://news.ycombinator.com/item?id={hit['objectID']}",
        created_at=datetime.fromtimestamp(int(hit["created_at_i"]), UTC),
        engagement=int(hit.get("points") or 0) + int(hit.get("num_comments") or 0),
    )


def _build(settings: Settings, retry: RetryPolicy | None) -> HackerNewsCollector:
    return HackerNewsCollector(settings.hn_api_url, retry)


SOURCE = SourceSpec(
    name="hn",
    display="Hacker News",
    build=_build,
    aliases=("hackernews", "hacker-news"),
    order=30,
    needs="nothing (public API)",
    cursor_at=unix_cursor,
)
