"""Reddit search through praw, read-only (application-only OAuth)."""

from __future__ import annotations

from datetime import UTC, datetime

import praw
import prawcore

from sentibot.collectors.base import (
    Post,
    RateLimited,
    RetryPolicy,
    SourceAuthError,
    SourceBadResponse,
    SourceUnavailable,
    with_retries,
)


def make_reddit(
    client_id: str, client_secret: str, user_agent: str, api_url: str | None = None
) -> praw.Reddit:
    urls = {"oauth_url": api_url.rstrip("/"), "reddit_url": api_url.rstrip("/")} if api_url else {}
    reddit = praw.Reddit(
        client_id=client_id,
        client_secret=client_secret,
        user_agent=user_agent,
        check_for_updates=False,
        **urls,
    )
    reddit.read_only = True
    return reddit


class RedditCollector:
    name = "reddit"

    def __init__(
        self, reddit: praw.Reddit, subreddits: str = "all", retry: RetryPolicy | None = None
    ) -> None:
        self.reddit = reddit
        self.subreddits = subreddits
        self.retry = retry or RetryPolicy()

    def search(self, query: str, limit: int) -> list[Post]:
        return with_retries(lambda: self._search(query, limit), self.retry)

    def _search(self, query: str, limit: int) -> list[Post]:
        try:
            listing = self.reddit.subreddit(self.subreddits).search(
                query, sort="new", time_filter="week", limit=limit
            )
            posts: dict[str, Post] = {}
            for submission in listing:
                post = _to_post(submission)
                posts.setdefault(post.external_id, post)
            return list(posts.values())
        except prawcore.TooManyRequests as exc:
            retry_after = exc.response.headers.get("x-ratelimit-reset") or exc.response.headers.get(
                "retry-after"
            )
            raise RateLimited(
                "Reddit rate limit reached (429)", float(retry_after) if retry_after else None
            ) from exc
        except (prawcore.OAuthException, prawcore.Forbidden) as exc:
            raise SourceAuthError(
                "Reddit rejected the credentials: check REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET"
            ) from exc
        except prawcore.ResponseException as exc:
            status = exc.response.status_code
            if status == 401:
                raise SourceAuthError(
                    "Reddit rejected the credentials (401): check REDDIT_CLIENT_ID and "
                    "REDDIT_CLIENT_SECRET"
                ) from exc
            if status == 429:
                raise RateLimited("Reddit rate limit reached (429)", None) from exc
            if status >= 500:
                raise SourceUnavailable(f"Reddit server error ({status})") from exc
            raise SourceBadResponse(f"Reddit answered {status}") from exc
        except (prawcore.ServerError, prawcore.RequestException) as exc:
            raise SourceUnavailable(f"Reddit unreachable: {type(exc).__name__}") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SourceBadResponse("Reddit sent a malformed response") from exc


def _to_post(submission: praw.models.Submission) -> Post:
    text = submission.title
    if submission.selftext:
        text = f"{submission.title}\n{submission.selftext}"
    author = submission.author.name if submission.author else None
    return Post(
        source="reddit",
        external_id=submission.id,
        text=text,
        author=author,
        url=f"https://www.reddit.com{submission.permalink}",
        created_at=datetime.fromtimestamp(float(submission.created_utc), UTC),
        engagement=int(submission.score) + int(submission.num_comments),
    )
