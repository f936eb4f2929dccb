"""Reddit search through praw, read-only (application-only OAuth)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, cast

import praw
import prawcore

from collectors.base import malformed, newer, side_by_side, unix_cursor, with_retries
from sentibot.config.settings import Settings
from sentibot.query import Query
from sentibot.sources import (
    Batch,
    Post,
    RateLimited,
    RetryPolicy,
    SourceAuthError,
    SourceBadResponse,
    SourceError,
    SourceSpec,
    SourceUnavailable,
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
        **cast(dict[str, Any], urls),
    )
    reddit.read_only = True
    return reddit


class RedditCollector:
    """New submissions matching the query across `subreddits` ("all", or "a+b+c"), and the
    comments under the newest `comment_posts` of them that mention it themselves."""

    name = "reddit"

    def __init__(
        self,
        reddit: praw.Reddit,
        subreddits: str = "all",
        retry: RetryPolicy | None = None,
        comment_posts: int = 5,
    ) -> None:
        self.reddit = reddit
        self.subreddits = subreddits
        self.retry = retry or RetryPolicy()
        self.comment_posts = comment_posts

    def collect(self, query: Query, limit: int, cursor: str | None = None) -> Batch:
        return with_retries(lambda: self._collect(query, limit, cursor), self.retry)

    def _collect(self, query: Query, limit: int, cursor: str | None) -> Batch:
        since = float(cursor) if cursor else None
        try:
            listing = self.reddit.subreddit(self.subreddits).search(
                query.to_reddit(), sort="new", time_filter="week", limit=limit
            )
            posts: dict[str, Post] = {}
            submissions = []
            newest = cursor
            for submission in listing:
                created = float(submission.created_utc)
                if since is not None and created <= since:
                    break  # sorted by new: the rest were read by an earlier run
                post = _to_post(submission)
                posts.setdefault(post.external_id, post)
                submissions.append(submission)
                newest = newer(newest, created)
            missed: list[str] = []
            # Enough already: no comment pages. Otherwise the pages side by side (they are
            # independent GETs on one session; praw's rate limiter still reads every answer).
            wanted = submissions[: self.comment_posts] if len(posts) < limit else []
            pages = side_by_side(
                wanted,
                lambda submission: self._comments_or_gone(submission, query, since),
                workers=max(1, self.comment_posts),
            )
            for submission, comments in zip(wanted, pages, strict=True):
                if isinstance(comments, SourceError):
                    raise comments  # the source's own failure (a limit, an outage)
                if isinstance(comments, _Gone):
                    # A thread gone private, quarantined or removed costs that thread only.
                    missed.append(f"comments of {submission.id}: {comments.reason}")
                    continue
                for comment in comments:
                    if len(posts) >= limit:
                        break
                    posts.setdefault(comment.external_id, comment)
                    if comment.created_at is not None:
                        newest = newer(newest, comment.created_at.timestamp())
            partial = "; ".join(missed) if missed else None
            return Batch(list(posts.values())[:limit], newest, partial=partial)
        except prawcore.TooManyRequests as exc:
            retry_after = exc.response.headers.get("x-ratelimit-reset") or exc.response.headers.get(
                "retry-after"
            )
            raise RateLimited(
                "Reddit rate limit reached (429)", float(retry_after) if retry_after else None
            ) from exc
        except prawcore.OAuthException as exc:
            raise SourceAuthError(
                "Reddit rejected the credentials: check REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET"
            ) from exc
        except prawcore.Forbidden as exc:
            raise SourceBadResponse(f"Reddit refused the search (403{_said(exc)})") from exc
        except prawcore.Redirect as exc:
            raise SourceBadResponse(_redirect_reason(exc)) from exc
        except prawcore.BadJSON as exc:
            raise SourceBadResponse(malformed("Reddit", _json_error(exc))) from exc
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
            raise SourceBadResponse(f"Reddit answered {status}{_said(exc)}") from exc
        except (prawcore.ServerError, prawcore.RequestException) as exc:
            raise SourceUnavailable(f"Reddit unreachable: {type(exc).__name__}") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SourceBadResponse(malformed("Reddit", exc)) from exc

    def _comments_or_gone(
        self, submission: praw.models.Submission, query: Query, since: float | None
    ) -> list[Post] | _Gone:
        try:
            return self._matching_comments(submission, query, since)
        except _THREAD_GONE as exc:
            return _Gone(_thread_reason(exc))

    def _matching_comments(
        self, submission: praw.models.Submission, query: Query, since: float | None
    ) -> list[Post]:
        submission.comments.replace_more(limit=0)
        found = []
        for comment in submission.comments.list():
            if not isinstance(comment, praw.models.Comment):
                continue  # none are left after replace_more(limit=0)
            body = getattr(comment, "body", "") or ""
            if since is not None and float(comment.created_utc) <= since:
                continue
            if query.matches(body):
                found.append(_comment_to_post(comment))
        return found


@dataclass(frozen=True)
class _Gone:
    reason: str


# Answers for one comment page that say the thread is gone or closed, not that sentibot is.
_THREAD_GONE = (
    prawcore.Forbidden,
    prawcore.NotFound,
    prawcore.Redirect,
    prawcore.UnavailableForLegalReasons,
)


def _said(exc: prawcore.ResponseException) -> str:
    """What Reddit said, briefly: its JSON `reason` or `message`, else a body excerpt."""
    response = getattr(exc, "response", None)
    if response is None:
        return ""
    try:
        body = response.json()
        said = body.get("reason") or body.get("message") if isinstance(body, dict) else None
    except ValueError:
        said = (response.text or "").strip()[:80]
    return f": {said}" if said else ""


def _json_error(exc: prawcore.BadJSON) -> Exception:
    try:
        json.loads(exc.response.text)
    except json.JSONDecodeError as error:
        return error
    return exc


def _redirect_reason(exc: prawcore.Redirect) -> str:
    """Reddit answers a search in a subreddit that does not exist (or was banned) with a 302
    to its subreddit search."""
    where = exc.path or "elsewhere"
    if where.startswith("/subreddits/search"):
        return (
            "Reddit redirected the search to /subreddits/search (302): a subreddit in "
            "REDDIT_SUBREDDITS does not exist or was banned"
        )
    return f"Reddit redirected the search to {where[:80]} (302)"


def _thread_reason(exc: prawcore.PrawcoreException) -> str:
    status = getattr(getattr(exc, "response", None), "status_code", None)
    meaning = {403: "private or quarantined", 404: "removed", 451: "unavailable here"}
    head = f"{status} {meaning.get(status, '')}".strip() if status else type(exc).__name__
    return head + (_said(exc) if isinstance(exc, prawcore.ResponseException) else "")


def _comment_to_post(comment: praw.models.Comment) -> Post:
    author = comment.author.name if comment.author else None
    return Post(
        source="reddit",
        external_id=f"t1_{comment.id}",
        text=comment.body,
        author=author,
        url=f"https://www.reddit.com{comment.permalink}",
        created_at=datetime.fromtimestamp(float(comment.created_utc), UTC),
        engagement=int(comment.score),
    )


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


def _build(settings: Settings, retry: RetryPolicy | None) -> RedditCollector:
    client_id = settings.require("reddit_client_id", "the Reddit source")
    secret = settings.require("reddit_client_secret", "the Reddit source")
    reddit = _shared_reddit(client_id, secret, settings.reddit_user_agent, settings.reddit_api_url)
    return RedditCollector(reddit, subreddits=settings.reddit_subreddits, retry=retry)


@lru_cache(maxsize=4)
def _shared_reddit(
    client_id: str, client_secret: str, user_agent: str, api_url: str | None
) -> praw.Reddit:
    """One client per worker process: its app token (an hour long) and praw's view of the
    rate limit carry from one collection to the next, instead of a token request each time."""
    return make_reddit(client_id, client_secret, user_agent, api_url)


SOURCE = SourceSpec(
    name="reddit",
    display="Reddit",
    build=_build,
    order=20,
    needs="REDDIT_CLIENT_ID and REDDIT_CLIENT_SECRET (a script app)",
    reach=timedelta(days=7),  # the search asks for the past week
    cursor_at=unix_cursor,
)
