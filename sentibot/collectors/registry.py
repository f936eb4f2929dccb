"""Which sources exist, how each is built from settings, and collecting from several at once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from sentibot.collectors.base import Collector, Post, RetryPolicy, SourceError, SourceNotConfigured
from sentibot.config.settings import MissingSetting, Settings

log = logging.getLogger(__name__)

ALIASES = {"twitter": "x", "x": "x", "reddit": "reddit"}
SOURCE_NAMES = ("x", "reddit")
DISPLAY_NAMES = {"x": "X", "reddit": "Reddit"}


def canonical_source(name: str) -> str | None:
    return ALIASES.get(name.strip().lower())


def _build_x(settings: Settings, retry: RetryPolicy | None) -> Collector:
    from sentibot.collectors.twitter import TwitterCollector, make_client

    token = settings.require("twitter_bearer_token", "the X source")
    return TwitterCollector(make_client(token, settings.twitter_api_url), retry)


def _build_reddit(settings: Settings, retry: RetryPolicy | None) -> Collector:
    from sentibot.collectors.reddit import RedditCollector, make_reddit

    client_id = settings.require("reddit_client_id", "the Reddit source")
    secret = settings.require("reddit_client_secret", "the Reddit source")
    reddit = make_reddit(client_id, secret, settings.reddit_user_agent, settings.reddit_api_url)
    return RedditCollector(reddit, retry=retry)


BUILDERS: dict[str, Callable[[Settings, RetryPolicy | None], Collector]] = {
    "x": _build_x,
    "reddit": _build_reddit,
}


def build_collectors(
    settings: Settings, names: Sequence[str], retry: RetryPolicy | None = None
) -> dict[str, Collector | SourceNotConfigured]:
    """A collector per requested source, or the reason it is not configured."""
    built: dict[str, Collector | SourceNotConfigured] = {}
    for name in names:
        try:
            built[name] = BUILDERS[name](settings, retry)
        except MissingSetting as exc:
            built[name] = SourceNotConfigured(f"not configured ({exc.variable} is not set)")
    return built


@dataclass(frozen=True)
class SourceReport:
    status: str  # "ok", "skipped" or "failed"
    count: int = 0
    reason: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "count": self.count, "reason": self.reason}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> SourceReport:
        return cls(str(data["status"]), int(data.get("count") or 0), data.get("reason"))  # type: ignore[arg-type]


def collect(
    query: str, collectors: Mapping[str, Collector | SourceNotConfigured], limit: int
) -> tuple[list[Post], dict[str, SourceReport]]:
    """Search every source; one failing source never stops the others."""
    posts: list[Post] = []
    reports: dict[str, SourceReport] = {}
    for name, collector in collectors.items():
        if isinstance(collector, SourceNotConfigured):
            reports[name] = SourceReport("skipped", reason=collector.reason)
            continue
        try:
            found = collector.search(query, limit)
        except SourceError as exc:
            log.warning("source %s failed for %r: %s", name, query, exc.reason)
            reports[name] = SourceReport("failed", reason=exc.reason)
            continue
        posts.extend(found)
        reports[name] = SourceReport("ok", count=len(found))
    return posts, reports
