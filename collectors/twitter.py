"""X (Twitter) API v2 recent search through tweepy's `Client`."""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial

import requests
import tweepy
from requests.adapters import HTTPAdapter

from collectors.base import malformed, with_retries
from sentibot.config.settings import Settings
from sentibot.query import Query
from sentibot.sources import (
    Batch,
    Post,
    RateLimited,
    RetryPolicy,
    SourceAuthError,
    SourceBadResponse,
    SourceSpec,
    SourceUnavailable,
)

TWEEPY_HOST = "https://api.twitter.com"
TWEET_FIELDS = ["created_at", "public_metrics", "lang", "author_id"]


class _BaseURLAdapter(HTTPAdapter):
    """Sends requests meant for tweepy's hard-coded host to another base URL."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs):  # type: ignore[override]  # kwargs passed on
        assert request.url is not None
        if request.url.startswith(TWEEPY_HOST):
            request.url = self.base_url + request.url[len(TWEEPY_HOST) :]
        return super().send(request, **kwargs)


def make_client(bearer_token: str, api_url: str = TWEEPY_HOST) -> tweepy.Client:
    client = tweepy.Client(bearer_token=bearer_token, wait_on_rate_limit=False)
    if api_url.rstrip("/") != TWEEPY_HOST:
        client.session.mount(TWEEPY_HOST, _BaseURLAdapter(api_url))
    return client


class TwitterCollector:
    name = "x"

    def __init__(self, client: tweepy.Client, retry: RetryPolicy | None = None) -> None:
        self.client = client
        self.retry = retry or RetryPolicy()

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        """Newest first; with a cursor only tweets after it (`since_id`), so none is bought
        twice; a time cursor (`cursor_at`) reads from that time on (`start_time`). X bills
        every tweet a page returns, duplicates included (`billed`)."""
        posts: dict[str, Post] = {}
        next_token: str | None = None
        billed = 0
        since_id, start_time = _since(cursor)
        newest = since_id
        while len(posts) < limit:
            page_size = min(100, max(10, limit - len(posts)))
            response = with_retries(
                partial(self._page, query.to_x(), page_size, next_token, since_id, start_time),
                self.retry,
            )
            users = {u.id: u.username for u in (response.includes or {}).get("users", [])}
            billed += len(response.data or [])
            for tweet in response.data or []:
                post = _to_post(tweet, users)
                posts.setdefault(post.external_id, post)
                if newest is None or int(post.external_id) > int(newest):
                    newest = post.external_id
            next_token = (response.meta or {}).get("next_token")
            if not next_token or not response.data:
                break
        return Batch(list(posts.values())[:limit], newest, billed)

    def estimate(self, query: Query, since: datetime) -> int:
        """Posts a read from `since` would bill, from X's counts endpoint (which bills none)."""
        response = with_retries(lambda: self._counts(query.to_x(), since), self.retry)
        meta = response.meta or {}
        total = meta.get("total_tweet_count", meta.get("total_post_count"))
        if total is None:
            total = sum(int(bucket.get("tweet_count", 0)) for bucket in response.data or [])
        return int(total)

    def _counts(self, query: str, since: datetime) -> tweepy.Response:
        return self._call(
            self.client.get_recent_tweets_count,
            query=query,
            granularity="day",
            start_time=_recent_start(since),
        )

    def _page(
        self,
        query: str,
        size: int,
        next_token: str | None,
        since_id: str | None,
        start_time: datetime | None = None,
    ) -> tweepy.Response:
        return self._call(
            self.client.search_recent_tweets,
            query=query,
            max_results=size,
            next_token=next_token,
            since_id=since_id,
            start_time=start_time,
            tweet_fields=TWEET_FIELDS,
            expansions=["author_id"],
            user_fields=["username"],
        )

    def _call(self, method: Callable[..., tweepy.Response], **params: object) -> tweepy.Response:
        try:
            return method(**params)
        except tweepy.TooManyRequests as exc:
            raise RateLimited("X rate limit reached (429)", _reset_wait(exc.response)) from exc
        except tweepy.Unauthorized as exc:
            raise SourceAuthError(
                "X rejected the bearer token (401): check TWITTER_BEARER_TOKEN"
            ) from exc
        except tweepy.Forbidden as exc:
            raise SourceAuthError(
                "X refused the search (403): the API plan may not include recent search"
                + _said(exc)
            ) from exc
        except tweepy.TwitterServerError as exc:
            raise SourceUnavailable(f"X server error ({exc.response.status_code})") from exc
        except tweepy.HTTPException as exc:
            raise SourceBadResponse(f"X answered {exc.response.status_code}{_said(exc)}") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise SourceBadResponse(malformed("X", exc)) from exc
        except requests.RequestException as exc:
            raise SourceUnavailable(f"X unreachable: {type(exc).__name__}") from exc


# Recent search reaches back seven days; a start a little inside that is always accepted.
REACH = timedelta(days=7)


def cursor_at(when: datetime) -> str:
    """A cursor that starts a read at `when` (X's `start_time`), for backfills."""
    return f"@{int(when.timestamp())}"


def _since(cursor: str | None) -> tuple[str | None, datetime | None]:
    """(since_id, start_time) of a cursor: a tweet id, or a time from `cursor_at`."""
    if cursor and cursor.startswith("@"):
        return None, _recent_start(datetime.fromtimestamp(int(cursor[1:]), UTC))
    return cursor, None


def _recent_start(when: datetime) -> datetime:
    return max(when, datetime.now(UTC) - REACH + timedelta(minutes=1)).replace(microsecond=0)


def _reset_wait(response: requests.Response) -> float | None:
    headers = response.headers
    if "retry-after" in headers:
        return float(headers["retry-after"])
    if "x-rate-limit-reset" in headers:
        return max(0.0, float(headers["x-rate-limit-reset"]) - time.time())
    return None


def _to_post(tweet: tweepy.Tweet, usernames: dict[object, str]) -> Post:
    username = usernames.get(tweet.author_id)
    metrics = tweet.public_metrics or {}
    engagement = sum(
        int(metrics.get(k, 0))
        for k in ("like_count", "retweet_count", "reply_count", "quote_count")
    )
    created = tweet.created_at if isinstance(tweet.created_at, datetime) else None
    url = f"https://x.com/{username or 'i'}/status/{tweet.id}"
    return Post(
        source="x",
        external_id=str(tweet.id),
        # X escapes &, < and > in text (and only those): decoded once, here.
        text=html.unescape(tweet.text or ""),
        author=username,
        url=url,
        created_at=created,
        engagement=engagement,
        lang=tweet.lang,
    )


def _said(exc: tweepy.HTTPException) -> str:
    """What X said about a refused request (its `errors` messages, else `detail`), briefly."""
    messages = [str(m) for m in exc.api_messages if m]
    if messages:
        said = " ".join(" ".join(messages).split())
    else:
        said = " ".join((getattr(exc.response, "text", "") or "").split())
    return f": {said[:200]}" if said else ""


def _build(settings: Settings, retry: RetryPolicy | None) -> TwitterCollector:
    token = settings.require("twitter_bearer_token", "the X source")
    return TwitterCollector(make_client(token, settings.twitter_api_url), retry)


SOURCE = SourceSpec(
    name="x",
    display="X",
    build=_build,
    aliases=("twitter",),
    order=10,
    needs="TWITTER_BEARER_TOKEN (an API plan with recent search)",
    reach=REACH,
    cursor_at=cursor_at,
)
